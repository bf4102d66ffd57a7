"""A bad mapping file is refused with the file, the line and what is wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sync.errors import MappingError
from sync.mapping_loader import load_mapping_file, load_mappings

GOOD = """\
name: demo
title: Demo
version: 1
helpdesk: any
sop:
  - {file: 000_55e322616c6228d0.txt, heading: "Escalonamento de casos"}
fields:
  cpf:
    label: CPF do cliente
    validator: cpf
  motivo:
    label: Motivo
templates:
  incomplete: "Faltando: {missing}"
defaults:
  on_incomplete:
    - add_note: {template: incomplete}
types:
  - name: Voucher
    sop: {file: 000_55e322616c6228d0.txt, heading: "Voucher"}
    require: [cpf, motivo]
    actions:
      - route: {queue: Backoffice EPS}
"""


def write(tmp_path: Path, text: str, name: str = "demo") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(MappingError) as caught:
        load_mapping_file(path)
    return [str(p) for p in caught.value.problems]


def test_good_mapping_loads(tmp_path: Path) -> None:
    mapping = load_mapping_file(write(tmp_path, GOOD))
    assert mapping.name == "demo"
    assert list(mapping.types) == ["Voucher"]


def test_unknown_key_names_file_line_and_path(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    require: [cpf, motivo]", "    requires: [cpf]"))
    assert problems_of(path) == [f"{path}:21: types[0].requires: unknown key"]


def test_unknown_validator_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("validator: cpf", "validator: cpf_cnpj2"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:10: fields.cpf.validator: 'cpf_cnpj2' unknown; known: ")
    assert "cnpj" in problem
    assert "public_ip" in problem


def test_duplicate_type_name_is_refused(tmp_path: Path) -> None:
    text = GOOD + textwrap.indent(
        '- name: "VOUCHER"\n  sop: {file: 000_55e322616c6228d0.txt, heading: "Voucher"}\n', "  "
    )
    path = write(tmp_path, text)
    (problem,) = problems_of(path)
    assert problem == (
        f"{path}:24: types[1].name: duplicate type name/alias 'VOUCHER' (already used by 'Voucher')"
    )


def test_reference_to_undefined_field(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("require: [cpf, motivo]", "require: [cpf, cnpj]"))
    assert problems_of(path) == [
        f"{path}:21: types[0].require[1]: field 'cnpj' is not defined under fields:"
    ]


def test_reference_to_undefined_template(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("template: incomplete}", "template: incompleto}"))
    (problem,) = problems_of(path)
    assert problem.startswith(
        f"{path}:17: defaults.on_incomplete[0].add_note.template: template 'incompleto' is not"
    )


def test_unknown_placeholder_in_template(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("Faltando: {missing}", "Faltando: {fields.rg}"))
    (problem,) = problems_of(path)
    assert problem == (
        f"{path}:14: templates.incomplete: placeholder '{{fields.rg}}' names a field "
        "that does not exist"
    )


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("title: Demo", "title: [Demo"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:")
    assert "invalid YAML" in problem


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("version: 1", "version: 1\nversion: 2"))
    assert problems_of(path) == [f"{path}:4: version: duplicate key"]


def test_condition_value_that_can_never_match(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    actions:\n      - route",
        "    rules:\n      - id: x\n        when: {field: cpf, equals: 'abc'}\n"
        "        require: [motivo]\n    actions:\n      - route",
    )
    (problem,) = problems_of(write(tmp_path, text))
    assert "types[0].rules[0].when: value 'abc' can never match field 'cpf'" in problem


def test_action_item_with_two_kinds(tmp_path: Path) -> None:
    text = GOOD.replace(
        "      - route: {queue: Backoffice EPS}",
        "      - route: {queue: Backoffice EPS}\n        set_status: {status: Escalado}",
    )
    (problem,) = problems_of(write(tmp_path, text))
    assert ":23: types[0].actions[0]: Value error, each action item needs exactly one of" in problem


def test_enum_alias_to_unknown_choice(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  motivo:\n    label: Motivo\n",
        "  motivo:\n    label: Motivo\n    validator: enum\n    options:\n"
        "      choices: [Boleto, Pix]\n      aliases: {cartao: Cartão}\n",
    )
    (problem,) = problems_of(write(tmp_path, text))
    assert "fields.motivo.options: alias 'cartao' points to 'Cartão'" in problem


def test_name_must_match_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, name="other")
    assert problems_of(path) == [f"{path}:1: name: 'demo' must equal the file name 'other'"]


def test_all_problems_of_a_directory_are_reported_together(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("validator: cpf", "validator: nope"))
    write(
        tmp_path,
        GOOD.replace("name: demo", "name: second").replace("version: 1", "version: 0"),
        name="second",
    )
    with pytest.raises(MappingError) as caught:
        load_mappings(tmp_path)
    files = sorted({Path(p.file).name for p in caught.value.problems})
    assert files == ["demo.yaml", "second.yaml"]


def test_every_shipped_mapping_loads() -> None:
    loaded = load_mappings()
    assert {"eps"} <= set(loaded)
    for mapping in loaded.values():
        for ctype in mapping.types.values():
            assert ctype.spec.sop.file.endswith(".txt")
