"""The read-only status page of ``run`` (``/`` and ``/status`` on the health address).

Theory of operation
-------------------
* For the ops person and the team lead: per connector the last pass and its result, the
  cursor's lag, a backlog estimate, the dead letters, the pending SLA timers (request
  type, SOP, due time, overdue) and the recent decisions with their explanation (request
  type, outcome, missing and invalid fields by their SOP labels, what was written, the SOP
  citations). Server-rendered HTML, no JavaScript, a meta refresh every
  ``REFRESH_SECONDS``; no form, no link that changes anything (GET and HEAD only).
* Sources: the state store, read at each request (cursor, dead letters, pending timers;
  the same for every process sharing it), and what ``cli.health.Health`` keeps in memory
  for this process (last job, the last ``RECENT_PASSES`` passes, the last
  ``RECENT_DECISIONS`` ticket reports). A store that does not answer is said on the page;
  the in-memory part is still shown.
* Safety: every value is HTML-escaped (ticket text may hold markup) and free text
  (errors, details, request types, action lines) goes through ``sync.masking.mask_text``
  first, so no CPF, CNPJ, e-mail or phone appears unmasked. Reports never carry comment
  or note bodies. ``PAGE_HEADERS`` forbid scripts, frames and caching.
* Backlog estimate (``estimate_backlog``): "caught up" when the last pass listed every
  change up to its end (not stopped, helpdesk reachable) and is recent (within
  ``STALE_INTERVALS`` intervals); its failed tickets, if any, are "to retry". Otherwise
  the connector is behind by its cursor lag, and the estimate is the rate of ticket
  versions decided in the recent passes (decided after the first kept pass, over the time
  since it) times the cursor lag; "unknown" without two passes or a datetime cursor.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

from cli.health import (
    RECENT_DECISIONS,
    STALE_INTERVALS,
    STORE_ERRORS,
    ConnectorState,
    Health,
    PassSample,
    RecentDecision,
)
from cli.output import duration
from sync.contract import DatetimeCursor
from sync.masking import mask_text

REFRESH_SECONDS = 30
"""The page reloads itself this often (meta refresh)."""
SHOWN_ROWS = 100
"""At most this many dead letters or timers are listed per connector (the rest counted)."""
EXPLANATION_LINES = 3
"""At most this many explanation lines per decision (``explain`` shows them all)."""
PAGE_HEADERS: tuple[tuple[str, str], ...] = (
    ("Cache-Control", "no-store"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
"""Sent with the page: inline CSS only, no scripts, frames or caching."""
BACKLOG_HELP = (
    "Backlog estimate: “caught up” when the last pass listed every change up to its end "
    f"(not stopped, helpdesk reachable) and ran within {STALE_INTERVALS} intervals; tickets that "
    "failed in it are retried on the next pass. Otherwise the connector is behind by its "
    "cursor lag, and the estimate is the rate of ticket versions decided in the recent "
    "passes (the echoes of helpdesk-sync's own writes included) times that lag; "
    "“unknown” before two passes or without a datetime cursor. The cursor lag alone is no "
    "backlog: on a quiet helpdesk it grows while nothing waits."
)

STYLE = (files("cli") / "templates" / "status.css").read_text(encoding="utf-8")
"""The page's stylesheet, inlined (the CSP allows no other source)."""

RESULT_BADGES: dict[str, tuple[str, str]] = {
    "ok": ("ok", "ok"),
    "failed": ("warn", "some tickets failed"),
    "unavailable": ("bad", "helpdesk unavailable"),
    "auth": ("bad", "credentials refused"),
    "error": ("bad", "internal error"),
    "elsewhere": ("info", "owned by another process"),
}
"""How each last-job result shows: badge class and words."""
OUTCOME_BADGES: dict[str, str] = {
    "complete": "ok",
    "handled_by_rule": "ok",
    "incomplete": "warn",
    "unmapped": "info",
    "out_of_scope": "info",
    "error": "bad",
    "quarantined": "bad",
}
"""Badge class of each ticket outcome."""


def e(value: object) -> str:
    """HTML-escaped text (quotes included)."""
    return html.escape(str(value), quote=True)


def masked(value: object) -> str:
    """Free text masked (CPF, CNPJ, e-mail, phone), then HTML-escaped."""
    return e(mask_text(str(value)))


# ---------------------------------------------------------------------------- time


def when(moment: datetime | None) -> str:
    """``2026-11-19 13:01:05 UTC``, or a dash."""
    if moment is None:
        return "—"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


# ---------------------------------------------------------------------------- backlog


@dataclass(frozen=True, slots=True)
class Backlog:
    """The backlog estimate of one connector: short words, the reason, a count if any."""

    text: str
    why: str
    tickets: int | None = None
    level: str = "info"
    """Badge class: ok, warn, bad or info."""


def decided_per_hour(passes: Sequence[PassSample]) -> float | None:
    """Ticket versions decided per hour in the kept passes: what the passes after the first
    decided, over the time from the first pass's end to the last's; None before two."""
    if len(passes) < 2:
        return None
    span = (passes[-1].ended_at - passes[0].ended_at).total_seconds()
    if span <= 0:
        return None
    return sum(p.decided for p in passes[1:]) * 3600 / span


def estimate_backlog(
    state: ConnectorState, passes: Sequence[PassSample], lag: float | None, now: datetime
) -> Backlog:
    """The backlog estimate the page shows (see the module's docstring and the README)."""
    if state.result == "elsewhere":
        return Backlog("elsewhere", "another process owns this connector: see its page")
    if not passes:
        return Backlog("unknown", "no pass yet")
    last = passes[-1]
    age = (now - last.ended_at).total_seconds()
    recent = age <= STALE_INTERVALS * state.interval
    if last.listed_all and recent:
        if last.failed:
            return Backlog(
                f"caught up, {last.failed} to retry",
                f"the last pass listed every change; {last.failed} ticket(s) failed and are "
                "retried on the next pass (quarantined after max_attempts)",
                last.failed,
                "warn",
            )
        return Backlog(
            "caught up",
            f"the last pass ({duration(age)} ago) listed every change up to its end",
            0,
            "ok",
        )
    reason = f"last pass {duration(age)} ago" if last.listed_all else f"last pass: {last.result}"
    rate = decided_per_hour(passes)
    if rate is None or lag is None:
        missing = "no rate yet (fewer than two passes)" if rate is None else "no cursor lag"
        return Backlog("unknown", f"behind ({reason}); {missing}", None, "warn")
    tickets = round(rate * max(lag, 0.0) / 3600)
    return Backlog(
        f"≈ {tickets} ticket(s)",
        f"behind ({reason}): {rate:.1f} decided/h in recent passes × cursor lag {duration(lag)}",
        tickets,
        "bad",
    )


# ---------------------------------------------------------------------------- data


@dataclass(slots=True)
class ConnectorView:
    """What the page shows of one connector."""

    name: str
    state: ConnectorState
    passes: list[PassSample]
    decisions: list[RecentDecision]
    lag: float | None = None
    cursor: str | None = None
    letters: list[Any] | None = None
    """Active dead letters (``DeadLetter`` rows); None when the store did not answer."""
    timers: list[Any] | None = None
    """Pending timers (``TimerRow``), by due time; None when the store did not answer."""
    store_error: str | None = None


def collect(health: Health, now: datetime) -> list[ConnectorView]:
    """Read the store and ``health`` for every connector."""
    views: list[ConnectorView] = []
    for name in health.states:
        view = ConnectorView(
            name, health.state_of(name), health.recent_passes(name), health.recent_decisions(name)
        )
        try:
            view.cursor = health.store.get_cursor(name)
            view.letters = health.store.dead_letters(name)
            view.timers = health.store.list_timers(name, state="pending")
        except STORE_ERRORS as exc:
            view.store_error = type(exc).__name__
        if view.cursor:
            try:
                view.lag = (now - DatetimeCursor.decode(view.cursor)).total_seconds()
            except ValueError:
                view.lag = None  # not a datetime cursor: no lag in seconds
        views.append(view)
    return views


# ---------------------------------------------------------------------------- HTML


def badge(level: str, text: str) -> str:
    return f'<span class="badge {e(level)}">{e(text)}</span>'


def items(lines: Iterable[str], *, mask: bool = True) -> str:
    """A bare list of lines (escaped; masked unless they are labels), or a dash."""
    shown = [masked(line) if mask else e(line) for line in lines]
    if not shown:
        return '<span class="muted">—</span>'
    return '<ul class="plain">' + "".join(f"<li>{line}</li>" for line in shown) + "</ul>"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    """A table of already-escaped cells."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell}</td>' if index in numeric else f"<td>{cell}</td>"
            for index, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def more(total: int) -> str:
    if total <= SHOWN_ROWS:
        return ""
    return f'<p class="muted small">… and {total - SHOWN_ROWS} more (first {SHOWN_ROWS} shown)</p>'


def last_pass_cell(view: ConnectorView, now: datetime) -> str:
    state = view.state
    if state.seen_at is None:
        return badge("info", "starting") + ' <span class="muted small">no pass yet</span>'
    level, words = RESULT_BADGES.get(state.result or "", ("info", state.result or "?"))
    age = duration((now - state.seen_at).total_seconds())
    out = f'{badge(level, words)}<div class="small">{e(when(state.seen_at))}'
    out += f' <span class="muted">({e(age)} ago)</span></div>'
    last = view.passes[-1] if view.passes else None
    if last is not None and last.result == state.result and (last.seen or last.listed_all):
        counts = f"{last.seen} seen, {last.decided} decided, {last.failed} failed"
        if last.quarantined:
            counts += f", {last.quarantined} quarantined"
        out += f'<div class="small muted">{e(counts)}</div>'
    if state.detail:
        out += f'<div class="small">{masked(state.detail)}</div>'
    return out


def overview(views: Sequence[ConnectorView], now: datetime) -> str:
    rows = []
    for view in views:
        backlog = estimate_backlog(view.state, view.passes, view.lag, now)
        letters = "?" if view.letters is None else str(len(view.letters))
        if view.timers is None:
            timers = "?"
        else:
            overdue = sum(1 for t in view.timers if _aware(t.due_at) <= now)
            timers = str(len(view.timers))
            if overdue:
                timers += f" {badge('bad', f'{overdue} overdue')}"
        rows.append(
            (
                f'<a href="#c-{e(view.name)}"><b>{e(view.name)}</b></a>',
                last_pass_cell(view, now),
                e(duration(view.lag)) if view.lag is not None else '<span class="muted">—</span>',
                f'{badge(backlog.level, backlog.text)}<div class="small muted">'
                f"{e(backlog.why)}</div>",
                badge("bad", letters) if letters not in ("0", "?") else e(letters),
                timers,
            )
        )
    headers = (
        "Connector",
        "Last pass",
        "Cursor lag",
        "Backlog estimate",
        "Dead letters",
        "Pending timers",
    )
    return table(headers, rows, {4, 5})


def dead_letters_html(view: ConnectorView) -> str:
    if view.letters is None:
        return '<p class="empty">state store unavailable</p>'
    if not view.letters:
        return '<p class="empty">none</p>'
    rows = [
        (
            e(letter.id),
            f'<span class="mono">{e(letter.ticket_id)}</span>',
            e(letter.attempts),
            f'<span class="nowrap">{e(when(_aware(letter.created_at)))}</span>',
            f'<span class="mono small">{masked(letter.error)}</span>',
        )
        for letter in view.letters[:SHOWN_ROWS]
    ]
    headers = ("Id", "Ticket", "Attempts", "Quarantined", "Last error (masked)")
    return table(headers, rows, {0, 2}) + more(len(view.letters))


def timers_html(view: ConnectorView, now: datetime) -> str:
    if view.timers is None:
        return '<p class="empty">state store unavailable</p>'
    if not view.timers:
        return '<p class="empty">none</p>'
    rows = []
    for timer in view.timers[:SHOWN_ROWS]:
        due = _aware(timer.due_at)
        left = (due - now).total_seconds()
        status = (
            badge("bad", f"overdue by {duration(left)}")
            if left <= 0
            else badge("ok", f"in {duration(left)}")
        )
        rows.append(
            (
                f'<span class="mono">{e(timer.ticket_id)}</span>',
                f'<span class="mono">{e(timer.timer_id)}</span>',
                masked(timer.request_type),
                e(timer.sop),
                f'<span class="nowrap">{e(when(due))}</span>',
                status,
            )
        )
    headers = ("Ticket", "Timer", "Request type", "SOP", "Due", "Status")
    return table(headers, rows, set()) + more(len(view.timers))


def written_cell(decided: RecentDecision) -> str:
    report = decided.report
    if not report.actions:
        return '<span class="muted">' + ("—" if report.error else "nothing to write") + "</span>"
    out = items(report.actions)
    counts = []
    if report.applied:
        counts.append(f"{report.applied} written")
    if report.reconciled:
        counts.append(f"{report.reconciled} found already there")
    if report.actions and not counts and not report.error:
        counts.append("nothing new: already in the helpdesk" if not report.planned else "planned")
    if counts:
        out += f'<div class="small muted">{e(", ".join(counts))}</div>'
    return out


def decisions_html(view: ConnectorView) -> str:
    if not view.decisions:
        return '<p class="empty">no decision by this process yet</p>'
    rows = []
    for decided in view.decisions:
        report = decided.report
        level = OUTCOME_BADGES.get(report.outcome, "info")
        why = ""
        if report.missing:
            why += f'<div class="small muted">missing</div>{items(report.missing, mask=False)}'
        if report.invalid:
            why += f'<div class="small muted">invalid</div>{items(report.invalid)}'
        if report.rules:
            why += f'<div class="small muted">rules</div>{items(report.rules)}'
        if report.explanation:
            why += '<div class="small muted">how</div><div class="small">'
            why += f"{items(report.explanation[:EXPLANATION_LINES])}</div>"
        if report.error:
            why += '<div class="small muted">error</div><span class="mono small">'
            why += f"{masked(report.error)}</span>"
        rows.append(
            (
                f'<span class="nowrap">{e(when(decided.at))}</span>',
                f'<span class="mono">{e(report.ticket_id)}</span>',
                masked(report.request_type) if report.request_type else "—",
                badge(level, report.outcome),
                why or '<span class="muted">—</span>',
                written_cell(decided),
                items(report.sop, mask=False),
            )
        )
    headers = ("Pass ended", "Ticket", "Request type", "Outcome", "Why", "Written", "SOP")
    return table(headers, rows, set())


def connector_html(view: ConnectorView, now: datetime) -> str:
    parts = [f'<section class="connector" id="c-{e(view.name)}"><h2>{e(view.name)}</h2>']
    if view.store_error:
        parts.append(
            f'<p class="banner bad">state store unavailable ({e(view.store_error)}): '
            "dead letters, timers and the cursor are not shown</p>"
        )
    if view.cursor:
        parts.append(
            f'<p class="small muted">cursor <span class="mono">{e(view.cursor)}</span>'
            f" · poll interval {view.state.interval:g} s</p>"
        )
    count = "" if view.letters is None else f" ({len(view.letters)})"
    parts.append(f"<h3>Dead letters{count}</h3>{dead_letters_html(view)}")
    count = "" if view.timers is None else f" ({len(view.timers)})"
    parts.append(f"<h3>Pending SLA timers{count}</h3>{timers_html(view, now)}")
    parts.append(
        f"<h3>Recent decisions ({len(view.decisions)}, newest first)</h3>{decisions_html(view)}"
    )
    parts.append("</section>")
    return "".join(parts)


def render_page(health: Health) -> str:
    """The whole page, as of ``health.clock()``."""
    now = health.clock()
    views = collect(health, now)
    down = sorted({v.store_error for v in views if v.store_error})
    banner = ""
    if down:
        banner = (
            f'<p class="banner bad">State store unavailable ({e(", ".join(down))}): '
            "only this process's memory is shown.</p>"
        )
    body = "".join(connector_html(view, now) for view in views)
    if not views:
        body = '<p class="empty">no connector enabled</p>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>helpdesk-sync status</title>"
        f"<style>{STYLE}</style></head><body>"
        "<header><h1>helpdesk-sync status</h1>"
        f"<p>as of {e(when(now))} · read-only · refreshes every {REFRESH_SECONDS} s · "
        "customer data masked</p></header>"
        f"<main>{banner}<h2>Connectors</h2>{overview(views, now)}{body}</main>"
        f"<footer><p>{e(BACKLOG_HELP)}</p><p>Cursor lag: how far the connector's poll "
        "cursor (the change stamp of the newest ticket read) is behind now. Last pass and "
        "recent decisions are this process's own (the last "
        f"{RECENT_DECISIONS} per connector); dead letters and timers come from the "
        "state store. Times in UTC. Release a dead letter with "
        "<code>helpdesk-sync dead-letters retry ID</code>.</p></footer>"
        "</body></html>\n"
    )


def _aware(moment: datetime) -> datetime:
    """A stored datetime as UTC-aware (the store returns them aware; naive is taken as UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__ = [
    "BACKLOG_HELP",
    "PAGE_HEADERS",
    "REFRESH_SECONDS",
    "Backlog",
    "ConnectorView",
    "collect",
    "decided_per_hour",
    "estimate_backlog",
    "render_page",
]
