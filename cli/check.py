"""``check``: the configuration, every mapping of the mappings directory, the state store,
each connection, and the account names the mappings and configuration use.

One line per finding (``--format json``: one document). The account check asks each
connector for the names its account holds (``account_names()``: groups or queues, agents,
statuses, fields, request types) and reports every name a mapping or the configuration
uses that the account lacks, with the file, line and path to fix; kinds a helpdesk cannot
list are said to be unchecked. Exit 0 when all is well, 2 for a configuration, mapping or
account-name problem, 3 for refused credentials, 1 for an unreachable helpdesk.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from cli.exit_codes import EXIT_AUTH, EXIT_CONFIG, EXIT_FAILURES, EXIT_OK
from cli.runtime import load_runtime, missing_store, open_store


def cmd_check(args: argparse.Namespace) -> int:
    """``check``: config, every mapping of the mappings directory, state store and every
    connection with its account names; one line per finding (``--format json``: one
    document)."""
    from sync.errors import MappingError
    from sync.mapping_loader import load_mappings

    runtime = load_runtime(args)
    if isinstance(runtime, int):
        return runtime
    settings, mappings = runtime
    report: dict[str, Any] = {"config": "ok", "connectors": []}
    code = EXIT_OK
    try:
        every = load_mappings(settings.mappings_dir)
        report["mappings"] = {"ok": sorted(every), "errors": []}
    except MappingError as exc:  # one no connector uses is still shipped: report it
        report["mappings"] = {"ok": [], "errors": str(exc).splitlines()}
        code = EXIT_CONFIG
    absent = missing_store(settings)
    if absent is not None:
        report["state"] = {"status": "none yet", "path": absent}
        owners = dict.fromkeys((conf.name for conf in settings.connectors), None)
    else:
        store = open_store(settings)
        report["state"] = {"status": "ok", "url": str(store)}
        owners = {conf.name: store.lease_holder(conf.name) for conf in settings.connectors}
        store.close()
    config_file, config_lines = _config_lines(args)
    overlap = timedelta(seconds=settings.overlap_seconds)
    for index, conf in enumerate(settings.connectors):
        holder = owners[conf.name]
        entry: dict[str, Any] = {
            "name": conf.name,
            "kind": conf.kind,
            "base_url": conf.base_url,
            "mapping": conf.mapping,
            "types": len(mappings[conf.name].types),
            "owner": holder.owner if holder is not None else None,
            "owned_until": holder.expires_at.isoformat(timespec="seconds") if holder else None,
        }
        where = (config_file, config_lines, index)
        code = max(code, _check_connector(conf, mappings[conf.name], overlap, where, entry))
        report["connectors"].append(entry)
    if args.format == "json":
        print(json.dumps({**report, "exit": code}, ensure_ascii=False))
    else:
        _print_check(report, len(settings.connectors))
    return code


def _check_connector(
    conf: Any,
    mapping: Any,
    overlap: timedelta,
    where: tuple[str, dict[Any, int], int],
    entry: dict[str, Any],
) -> int:
    """The connection, then the account names; fills ``entry``, returns its exit code."""
    from connectors.registry import build_connector
    from sync.account import config_names, mapping_names, missing
    from sync.contract import AuthError, ConnectorError
    from sync.errors import ConfigError

    try:
        connector = build_connector(conf, overlap=overlap)
        entry["detail"] = connector.check()
        entry["status"] = "ok"
        account = getattr(connector, "account_names", None)
        if account is None:
            entry["account"] = {"problems": [], "unchecked": ["the connector lists no names"]}
            return EXIT_OK
        names = account()
    except ConfigError as exc:
        entry["status"], entry["detail"] = "CONFIG ERROR", str(exc)
        return EXIT_CONFIG
    except AuthError as exc:
        entry["status"], entry["detail"] = "AUTH ERROR", str(exc)
        return EXIT_AUTH
    except ConnectorError as exc:
        entry["status"], entry["detail"] = "UNREACHABLE", str(exc)
        return EXIT_FAILURES
    filename, lines, index = where
    uses = [
        *config_names(filename, lines, index, conf.account_names()),
        *mapping_names(Path(mapping.path), task_owners=names.task_owners),
    ]
    found = missing(uses, names)
    entry["account"] = {
        "checked": found.checked,
        "problems": [str(p) for p in found.problems],
        "unchecked": found.unchecked,
    }
    if found.problems:
        entry["status"] = "ACCOUNT NAMES MISSING"
        return EXIT_CONFIG
    return EXIT_OK


def _config_lines(args: argparse.Namespace) -> tuple[str, dict[Any, int]]:
    """The configuration file's name and line table (names in problems point into it)."""
    from cli.settings import CONFIG_ENV
    from sync.yaml_lines import load_yaml

    path = args.config or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    if path is None:
        return "configuration (defaults)", {}
    _, lines = load_yaml(Path(path).read_text(encoding="utf-8"), str(path))
    return str(path), lines


def _print_check(report: dict[str, Any], connectors: int) -> None:
    print(f"config: ok ({connectors} connector(s))")
    found = report["mappings"]
    if found["errors"]:
        print("mappings: BAD (in the mappings directory, used or not):")
        for line in found["errors"]:
            print(f"  {line}")
    else:
        print(f"mappings: ok ({', '.join(found['ok'])})")
    state = report["state"]
    if state["status"] == "ok":
        print(f"state: ok ({state['url']})")
    else:
        print(f"state: none yet at {state['path']} (the first run or backfill creates it)")
    for entry in report["connectors"]:
        owned = (
            f"owned by {entry['owner']} until {entry['owned_until']}"
            if entry["owner"]
            else "no owner"
        )
        line = (
            f"connector {entry['name']}: {entry['kind']} {entry['base_url']} mapping "
            f"{entry['mapping']} ({entry['types']} types; {owned})"
        )
        sep = " — " if entry["status"] in ("ok", "ACCOUNT NAMES MISSING") else " "
        print(f"{line}: {entry['status']}{sep}{entry['detail']}")
        account = entry.get("account")
        if account is None:
            continue
        if account["problems"]:
            print(f"  account names: {len(account['problems'])} missing:")
            for problem in account["problems"]:
                print(f"  {problem}")
        elif "checked" in account:
            print(f"  account names: ok ({account['checked']} checked)")
        for note in account["unchecked"]:
            print(f"  account names: {note}")


__all__ = ["cmd_check"]
