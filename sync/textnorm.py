"""Text folding shared by the parser, validators and type matching.

Agents write labels and values in any case, with or without accents; SOP names are
compared after folding so "Liberação de Pagamento" and "liberacao de pagamento" match.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Casefold, strip accents and collapse whitespace: the comparison key for names."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


WORD_ABBREVIATIONS = {
    "ped": "pedido", "pgto": "pagamento", "pagto": "pagamento", "cod": "codigo",
    "nro": "numero", "num": "numero", "tel": "telefone", "cel": "celular",
    "end": "endereco", "obs": "observacao", "qtd": "quantidade", "qtde": "quantidade",
    "desc": "descricao", "solic": "solicitacao", "doc": "documento", "docs": "documentos",
    "inst": "instalacao", "cert": "certificado", "info": "informacao", "lib": "liberacao",
    "valid": "validacao", "atend": "atendimento",
}  # fmt: skip
"""Folded shorthand agents write in labels and categories, without the trailing dot
("Ped. GAR", "Liberação pgto", "Reenvio cód. instalação") -> the word it stands for."""
