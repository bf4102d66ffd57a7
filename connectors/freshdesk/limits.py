"""Freshdesk's plan sub-limits: which endpoint calls count against which per-minute limit.

Theory of operation
-------------------
* Rate limits: ``RateBudget`` (``connectors._http``) follows the account-wide
  ``X-RateLimit-*`` headers; the endpoint sub-limits no header reports (tickets list,
  create, update) are paced by ``SubLimits`` from the configured plan, so a steady run never
  meets a 429. This module says what those sub-limits are per plan (``PLAN_SUB_LIMITS``),
  which bucket a call counts against (``sub_limit_bucket``), and merges a plan with the
  operator's lower overrides when other apps share a sub-limit (``plan_sub_limits``).
* The tickets-list sub-limit also sizes the listing windows (``listing``): one minute of
  it (Growth: 20 pages) is read before the window's tickets are loaded.
"""

from __future__ import annotations

from collections.abc import Mapping

PLAN_SUB_LIMITS: Mapping[str, Mapping[str, int]] = {
    "trial": {},
    "growth": {"tickets_list": 20, "ticket_create": 80, "ticket_update": 80},
    "pro": {"tickets_list": 100, "ticket_create": 160, "ticket_update": 160},
    "enterprise": {"tickets_list": 200, "ticket_create": 280, "ticket_update": 280},
    "purchased_1000": {"tickets_list": 300, "ticket_create": 400, "ticket_update": 400},
    "purchased_2000": {"tickets_list": 400, "ticket_create": 800, "ticket_update": 800},
}
"""Per-minute endpoint sub-limits by plan (no response header reports them)."""
SUB_LIMIT_BUCKETS = ("tickets_list", "ticket_create", "ticket_update")


def sub_limit_bucket(method: str, path: str) -> str | None:
    """The sub-limit a call counts against: list and create on ``/tickets``, update by id."""
    path = path.rstrip("/")
    if path == "/api/v2/tickets":
        return {"GET": "tickets_list", "POST": "ticket_create"}.get(method)
    if method == "PUT" and path.startswith("/api/v2/tickets/") and path[16:].isdigit():
        return "ticket_update"
    return None


def plan_sub_limits(plan: str | None, overrides: Mapping[str, int] | None = None) -> dict[str, int]:
    """The sub-limits of a plan with explicit overrides; ``ValueError`` names a bad key."""
    if plan is not None and plan not in PLAN_SUB_LIMITS:
        raise ValueError(f"unknown Freshdesk plan '{plan}'; known: {', '.join(PLAN_SUB_LIMITS)}")
    limits = dict(PLAN_SUB_LIMITS.get(plan or "", {}))
    for key, value in (overrides or {}).items():
        if key not in SUB_LIMIT_BUCKETS:
            raise ValueError(f"unknown sub-limit '{key}'; known: {', '.join(SUB_LIMIT_BUCKETS)}")
        if value < 1:
            raise ValueError(f"sub-limit '{key}' must be at least 1")
        limits[key] = value
    return limits


__all__ = ["PLAN_SUB_LIMITS", "SUB_LIMIT_BUCKETS", "plan_sub_limits", "sub_limit_bucket"]
