"""A stateful fake of the Salesforce REST API subset a Service Cloud integration uses.

Theory of operation
-------------------
``SalesforceSandbox`` holds one org's state (Case, CaseComment, Task, User, Group queues
with their QueueSobject rows, CaseStatus, CaseHistory, ContentDocument and
ContentDocumentLink records, plus the org schema with declared custom fields) behind a
lock, and answers every request through one handler::

    handle(method, path, query, headers, body) -> (status, headers, body)

Two thin adapters put it on the wire: ``install(rsps, base_url)`` registers ``responses``
callbacks, so the real ``simple_salesforce`` client runs against it with no sockets
(``Salesforce(session_id=DEFAULT_SESSION, instance_url=DEFAULT_BASE_URL,
session=requests.Session())``), and ``serve()`` runs a ``ThreadingHTTPServer`` on loopback
(plain HTTP). Every request is logged as a ``Call``, every record a successful write
changed as a ``Write``.

The wire contract is ``shared/reference/salesforce.md``: bearer sessions (401
``INVALID_SESSION_ID`` after ``expire_sessions``); ``query``/``queryAll`` with a SOQL
subset (``soql``: relationship fields, child subqueries, ``AND``/``OR``/``NOT``, ``IN``,
``LIKE``, unquoted datetimes, ``ORDER BY ... NULLS``, ``LIMIT``) answered in pages with
``nextRecordsUrl`` (``Sforce-Query-Options: batchSize``), nested child lists cut with
their own locator (``query``); sObject describe (fields, labels, picklist values);
sObject create/read/update/delete, sObject Collections and composite requests with
``allOrNone`` rollback, validated like an org
(``writes``: fields, restricted picklists, owners and queues, lengths, record locks);
case assignment rules unless ``Sforce-Auto-Assign: FALSE``; CaseHistory on owner
changes; ``limits`` and ``Sforce-Limit-Info`` on a daily allocation (403
``REQUEST_LIMIT_EXCEEDED``); an OAuth token endpoint. Timestamps come from an injectable
``clock`` at whole seconds (``2026-11-19T13:00:00.000+0000``), so ties on one second
are common, as on a real org. ``Faults`` (shared with the other sandboxes) injects 5xx,
timeouts and dropped connections; ``lock_record`` answers ``UNABLE_TO_LOCK_ROW``.

UNVERIFIED behaviours take the strict side and are switches: ``comment_bumps_case``
(False: a new CaseComment does not move its Case's ``SystemModstamp``), locator pages
counted against the daily allocation (always), ``child_page_size`` (200).

Every response shape carries a comment naming its source: a section of the reference
([ref §N]), the simple-salesforce source ([src]), the Salesforce REST/SOAP error pages
([err]/[api]) or "unverified: chosen to be the strict case".

Layout
------
``ids`` (18-character ids, key prefixes), ``schema`` (objects, fields and picklists),
``describe`` (the sObject Describe answer), ``records`` (call and write logs, cursors),
``shapes`` (timestamps, error bodies), ``soql`` (parser), ``query`` (evaluation,
paging), ``state`` (the org and its seeding helpers), ``writes`` (validation and side
effects of one record write), ``dispatch`` (``handle``), ``routes_read`` /
``routes_write`` / ``routes_composite`` / ``routes_describe`` (route handlers;
``set_picklist``), ``adapters`` (``install`` / ``serve``), ``sandbox``
(``SalesforceSandbox`` joins them), ``seeds`` (the EPS org).
"""

from __future__ import annotations

from ..faults import DroppedConnection, Faults, SandboxTimeout
from .adapters import RunningServer
from .demo_seed import DEMO_CASES, DemoOrg, SalesforceDemoCase, seed_demo
from .ids import KEY_PREFIXES, make_id, normalize
from .records import Call, Write
from .sandbox import SalesforceSandbox
from .seeds import EpsOrg, setup_eps_org
from .shapes import API_VERSION, DATA_PREFIX, fmt
from .state import DEFAULT_BASE_URL, DEFAULT_INSTANCE, DEFAULT_SESSION

__all__ = [
    "API_VERSION",
    "DATA_PREFIX",
    "DEFAULT_BASE_URL",
    "DEFAULT_INSTANCE",
    "DEFAULT_SESSION",
    "DEMO_CASES",
    "KEY_PREFIXES",
    "Call",
    "DemoOrg",
    "DroppedConnection",
    "EpsOrg",
    "Faults",
    "RunningServer",
    "SalesforceDemoCase",
    "SalesforceSandbox",
    "SandboxTimeout",
    "Write",
    "fmt",
    "make_id",
    "normalize",
    "seed_demo",
    "setup_eps_org",
]
