"""The comment parser must survive anything agents or helpdesks put in a body."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.comment_parser import (
    LabelIndex,
    extract_checklists,
    extract_fields,
    html_to_text,
)
from sync.model import Comment

LABELS: dict[str, list[str]] = {
    "numero_pedido_gar": ["Número do pedido GAR", "Nº do Pedido GAR"],
    "cpf": ["CPF do Cliente", "CPF"],
    "email_gar": ["E-mail no GAR"],
    "ip_publico": ["Nº do IP Público", "IP"],
    "tipo": ["Tipo de solicitação", "Tipo"],
    "posto": ["NOME DO POSTO"],
}
INDEX = LabelIndex(LABELS)
T0 = datetime(2025, 1, 1, tzinfo=UTC)

FRAGMENTS = [
    "<p>", "</p>", "<div>", "</div>", "<br>", "<br/>", "<b>", "</b>", "<li>", "</li>", "<ul>",
    "<script>", "</script>", "<style>", '<span style="a>b">', "<!--", "-->", "<td>", "<tr>",
    "&nbsp;", "&ccedil;", "&atilde;", "&amp;", "&#10;", "&", "<", ">", ":", " - ", " – ",
    " — ", "-", "(X)", "( )", "()", "[x]", "[ ]", "(✓)", "\n", "\r\n", "\r", "\t", " ",
    "Checklist -", "Checklist:", "Descrição da análise realizada:", "Análise:", "•", "*",
    "**", "1.", "a)", "Informe:", "Forneça", " O ", "(ou \"NÃO GERADO\")", "CPF", "Pedido",
    "GAR", "Número do pedido GAR", "IP", "2001:db8::1", "Sim", "Não", '"', ";", "_",
    "\x00", "\u2028", "\xa0", "\x01", "é", "?",
]  # fmt: skip

soupy_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40).map(
    "".join
)
any_text = st.one_of(st.text(), soupy_text)
times = st.one_of(
    st.integers(-10_000, 10_000).map(lambda m: T0 + timedelta(minutes=m)),
    st.integers(-10_000, 10_000).map(lambda m: T0.replace(tzinfo=None) + timedelta(minutes=m)),
)
comments = st.lists(
    st.builds(
        Comment,
        id=st.text(max_size=5),
        body=any_text,
        internal=st.booleans(),
        created_at=times,
    ),
    max_size=4,
)


@settings(max_examples=300)
@given(any_text)
def test_html_to_text_never_raises(body: str) -> None:
    text = html_to_text(body)
    assert isinstance(text, str)
    assert "\r" not in text


@settings(max_examples=300)
@given(comments)
def test_extract_fields_never_raises(notes: list[Comment]) -> None:
    for key, value in extract_fields(notes, INDEX).items():
        assert key == value.key
        assert value.value
        assert value.line >= 1


@settings(max_examples=300)
@given(comments)
def test_extract_checklists_never_raises(notes: list[Comment]) -> None:
    for checklist in extract_checklists(notes):
        assert checklist.title
        for question in checklist.questions:
            assert len(question.marked) <= len(question.options)


# Printable, single-spaced, one line; HTML-significant "<" and "&" excluded (a body holding
# them is read as HTML). Values the documented cleaning changes are excluded below.
value_chars = st.characters(
    exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"),
    exclude_characters="<&",
    include_characters=" ",
)
QUOTES = "\"'“”‘’«»"


def _kept_as_written(value: str) -> bool:
    return (
        value == value.strip()
        and "  " not in value
        and "**" not in value
        and not value.endswith(";")
        and value[:1] not in ":-–—"
        and bool(value.strip(" -_–—"))
        and not (len(value) >= 2 and value[0] in QUOTES and value[-1] in QUOTES)
    )


round_trip_values = st.text(value_chars, min_size=1, max_size=40).filter(_kept_as_written)


@settings(max_examples=400)
@given(
    st.sampled_from(sorted((key, label) for key, labels in LABELS.items() for label in labels)),
    round_trip_values,
)
def test_label_value_round_trip(entry: tuple[str, str], value: str) -> None:
    key, label = entry
    found = extract_fields([Comment("c", f"{label}: {value}", True, T0)], INDEX)
    assert found[key].value == value
    assert found[key].label == label
    assert found[key].line == 1
