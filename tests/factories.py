"""Builders for tickets written the way agents write them (used by the core tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sync.decide import Decision, decide
from sync.mapping_loader import CompiledMapping, load_mapping
from sync.model import Attachment, Comment, Context, RelatedTicket, Ticket

# Thursday 2026-11-19 16:00 in São Paulo; the next day (Fri 20) is a national holiday.
THURSDAY_BEFORE_HOLIDAY = datetime(2026, 11, 19, 19, 0, tzinfo=UTC)


@cache
def mapping(name: str) -> CompiledMapping:
    """The shipped mapping, loaded once per test session."""
    return load_mapping(name)


def ticket(
    *comments: str,
    request_type: str | None = None,
    subject: str = "",
    attachments: Sequence[tuple[str, str | None]] = (),
    at: datetime = THURSDAY_BEFORE_HOLIDAY,
    status: str | None = "Novo",
    queue: str | None = None,
    owner: str | None = "ana.souza",
    number: str | None = "00012345",
    fields: dict[str, Any] | None = None,
    source: str = "test",
    created_at: datetime | None = None,
) -> Ticket:
    """A ticket whose internal comments are ``comments``, oldest first, one minute apart."""
    created = created_at or at.replace(minute=0)
    return Ticket(
        id="T1",
        number=number,
        source=source,
        request_type=request_type,
        subject=subject,
        status=status,
        owner=owner,
        queue=queue,
        created_at=created,
        updated_at=at,
        fields=fields or {},
        comments=tuple(
            Comment(
                id=f"c{i}",
                body=body,
                internal=True,
                created_at=at.replace(second=0, microsecond=0).replace(minute=i % 60),
                author=owner,
            )
            for i, body in enumerate(comments)
        ),
        attachments=tuple(Attachment(name, ctype) for name, ctype in attachments),
    )


def run(
    mapping_name: str,
    t: Ticket,
    *,
    facts: dict[str, Any] | None = None,
    open_tickets: Sequence[RelatedTicket] = (),
    now: datetime | None = None,
) -> Decision:
    """Decide ``t`` with the shipped mapping."""
    context = Context(facts=facts or {}, open_tickets=tuple(open_tickets))
    return decide(mapping(mapping_name), t, context, now or t.updated_at)


def kinds(decision: Decision) -> list[str]:
    """The action kinds in order."""
    return [a.kind for a in decision.actions]


def action(decision: Decision, kind: str) -> Any:
    """The single action of ``kind`` (fails the test when absent or repeated)."""
    found = [a for a in decision.actions if a.kind == kind]
    assert len(found) == 1, f"expected one {kind}, got {kinds(decision)}"
    return found[0]


def missing_labels(decision: Decision) -> list[str]:
    """Labels of the missing items."""
    return [m.label for m in decision.missing]


def invalid_labels(decision: Decision) -> list[str]:
    """Labels of the invalid items."""
    return [i.label for i in decision.invalid]
