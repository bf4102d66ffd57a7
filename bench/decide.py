"""Decision throughput on generated realistic tickets, one core.

Usage: python bench/decide.py [--tickets 10000] [--mapping eps] [--seed 7]

Tickets are generated from the shipped mappings themselves (every request type, its
required fields written in mixed agent formats, plain and HTML bodies, about a third
incomplete or invalid), then decided once each; only ``decide`` is timed. The last line
is ``decisions/s: N``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.decide import decide
from sync.mapping_loader import CompiledMapping, load_mappings
from sync.model import Attachment, Comment, Context, Ticket

SAMPLES = {
    "text": "Cliente relata erro ao concluir a emissão do certificado",
    "cpf": "529.982.247-25",
    "cnpj": "11.222.333/0001-81",
    "cpf_cnpj": "45.723.174/0001-10",
    "email": "maria.oliveira@exemplo.com.br",
    "public_ip": "200.155.10.20",
    "yes_no": "Sim",
    "date": "18/11/2026",
    "uf": "SP",
    "order_number": "8812734",
    "phone": "(11) 98765-4321",
    "money": "R$ 1.500,00",
    "integer": "3",
    "city": "Campinas",
}
BAD = {"cpf": "529.982.247-26", "email": "maria@", "public_ip": "192.168.0.10", "cnpj": "11"}
BASE = datetime(2026, 11, 19, 19, 0, tzinfo=UTC)


def sample(mapping: CompiledMapping, key: str) -> str:
    spec = mapping.spec.fields[key]
    if spec.validator == "enum":
        return str(spec.options["choices"][0])
    return SAMPLES.get(spec.validator, "valor informado pelo agente")


def comment_body(mapping: CompiledMapping, keys: list[str], rng: random.Random) -> str:
    fields = mapping.spec.fields
    lines = []
    for key in keys:
        value = sample(mapping, key)
        if rng.random() < 0.05 and fields[key].validator in BAD:
            value = BAD[fields[key].validator]
        label = rng.choice([fields[key].label, *fields[key].synonyms])
        style = rng.randrange(4)
        if style == 0:
            lines.append(f"{label}: {value}")
        elif style == 1:
            lines.append(f"• {label.upper()} - {value}")
        elif style == 2:
            lines.append(f"- {label.lower()}: {value}")
        else:
            lines.append(f"<p><b>{label}:</b>&nbsp;{value}</p>")
    if rng.random() < 0.3:
        return "<div>" + "<br>".join(lines) + "</div>"
    return "\n".join(lines)


def generate(mappings: list[CompiledMapping], count: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    out = []
    for index in range(count):
        mapping = mappings[index % len(mappings)]
        ctype = rng.choice(list(mapping.types.values()))
        keys = list(ctype.spec.require) + list(ctype.spec.at_least_one_of[:1])
        for rule in ctype.rules:
            keys.extend(rule.require)
        keys = list(dict.fromkeys(keys))
        if keys and rng.random() < 0.25:
            keys.remove(rng.choice(keys))
        rng.shuffle(keys)
        at = BASE + timedelta(minutes=index)
        comments = [
            Comment(
                "c0", "Cliente entrou em contato pelo telefone.", True, at - timedelta(hours=1)
            ),
            Comment("c1", comment_body(mapping, keys, rng), True, at),
        ]
        attachments = (
            (Attachment("comprovante.pdf", "application/pdf"),) if rng.random() < 0.7 else ()
        )
        ticket = Ticket(
            id=str(index),
            number=f"{index:08d}",
            source="bench",
            created_at=at - timedelta(hours=2),
            updated_at=at,
            request_type=ctype.spec.name,
            subject=f"Chamado {index}",
            status="Novo",
            owner="ana",
            comments=tuple(comments),
            attachments=attachments,
        )
        out.append((mapping, ticket))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--mapping", action="append", help="mapping name(s); default: all")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    loaded = load_mappings()
    names = args.mapping or sorted(loaded)
    work = generate([loaded[n] for n in names], args.tickets, args.seed)
    context = Context()
    outcomes: dict[str, int] = {}
    start = time.perf_counter()
    for mapping, ticket in work:
        decision = decide(mapping, ticket, context, ticket.updated_at)
        outcomes[decision.outcome] = outcomes.get(decision.outcome, 0) + 1
    elapsed = time.perf_counter() - start
    print(f"mappings: {', '.join(names)}")
    print(f"tickets: {len(work)}  outcomes: {dict(sorted(outcomes.items()))}")
    print(f"elapsed: {elapsed:.3f} s")
    print(f"decisions/s: {len(work) / elapsed:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
