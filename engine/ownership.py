"""One owner per connector: the lease a process holds in the state store before it writes.

Theory of operation
-------------------
* Every process that writes a connector's helpdesk (``run``, ``run --once``, ``backfill``)
  first takes that connector's row in ``leases`` (``Store.acquire_lease``: one atomic
  upsert, so of several processes exactly one wins). The owner id is ``host:pid:random``,
  unique per process. ``--dry-run`` writes nothing and takes no lease.
* The lease runs ``ttl`` (``lease_seconds``, by default half the connector's poll
  interval). A ``Heartbeat`` thread renews every held lease three times per ``ttl``, so a
  live owner keeps it through long listings and rate-limit waits; a dead one (SIGKILL, a
  lost host) stops renewing and its lease runs out within ``ttl``.
* A dead owner on the same host is noticed at once: each owner keeps an exclusive
  ``flock`` on a file of its own in the temporary directory (``AliveMark``) for as long as
  it lives, and the kernel drops that lock when the process dies, however it dies. A lease
  whose owner's file can be locked by someone else is broken without waiting for it to
  run out (a process restarted after a crash goes on at once). No file (another host, a
  container with its own ``/tmp``) or a held lock: the lease is waited out.
* Fencing: before each ticket's writes the engine calls ``ConnectorLease.fence``, which
  renews the lease in the store. When another process holds it (this one was paused past
  its lease and was taken over) or the store cannot tell, ``LeaseLost`` stops the pass
  before anything more is written. The new owner finds the journal as the old one left it
  and settles its ``sent`` effects with the connector's ``find_applied``: the recovery one
  process already does after a crash.
* Lease times come from the database's clock on PostgreSQL (``clock_timestamp()``) and
  the host's on SQLite (one host's file), so hosts whose clocks disagree still agree on
  when a lease ends. What no lease can fence: a process paused longer than ``ttl`` *after*
  its fence and *before* its write lands; that write may race the new owner's.
* Waiting and handover: ``run --once`` and ``backfill`` wait (``ConnectorLease.wait``) up
  to a bound, and while waiting keep a ``<connector>#wanted`` row. A service owner idle
  between passes hands the connector over (releases its lease) when such a row names
  someone else, and does not take the connector back while it stands; standby replicas
  defer to it too. Standbys never ask, so replicas do not pass a connector back and forth.

Why this module is long: the lease, its heartbeat, the same-host liveness mark and the
handover are one protocol whose invariants (who may write, when a lease may be broken)
read only together; apart, each piece would have to restate the others' rules.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Final

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: dead owners' leases are waited out
    fcntl = None  # type: ignore[assignment]

from sqlalchemy.exc import SQLAlchemyError

from engine.store import LeaseRow, Store, StoreError
from sync.errors import HelpdeskSyncError

log = logging.getLogger("helpdesk_sync.ownership")

WANTED_SUFFIX: Final = "#wanted"
"""Lease row name of a waiting ``run --once``/``backfill``: ``<connector>#wanted``."""
_WAIT_STEP = 0.5
"""Longest pause between two attempts of a waiting process, in seconds."""


class LeaseLost(HelpdeskSyncError):
    """Another process owns the connector now (or the store cannot confirm this one does)."""


def new_owner_id() -> str:
    """``host:pid:random``: unique per process, and it says where the owner runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def wanted_key(connector: str) -> str:
    """The lease row a process waiting for ``connector`` keeps while it waits."""
    return connector + WANTED_SUFFIX


def _alive_path(owner: str, directory: Path | None) -> Path:
    digest = hashlib.sha256(owner.encode()).hexdigest()[:24]
    return (directory or Path(tempfile.gettempdir())) / f"helpdesk-sync-{digest}.alive"


class AliveMark:
    """This owner's proof of life for processes on the same host: a file it keeps locked.

    The file is locked before it gets its final name (an atomic rename), so nobody ever
    sees it unlocked while its owner lives.
    """

    def __init__(self, owner: str, directory: Path | None = None) -> None:
        self.path = _alive_path(owner, directory)
        self._fd: int | None = None
        if fcntl is None:
            return
        draft = self.path.with_suffix(f".{os.getpid()}.tmp")
        try:
            fd = os.open(draft, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o600)
        except OSError:  # no writable temporary directory: others wait the lease out
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, owner.encode())
            draft.replace(self.path)
        except OSError:
            os.close(fd)
            with suppress(OSError):
                draft.unlink()
            return
        self._fd = fd
        _sweep(self.path.parent, keep=self.path)

    def close(self) -> None:
        """Clean exit: remove the file (a killed process leaves it unlocked instead)."""
        if self._fd is not None:
            with suppress(OSError):
                self.path.unlink()
            os.close(self._fd)
            self._fd = None


_STALE_MARK_SECONDS: Final = 24 * 3600.0
"""A dead owner's mark is only swept once no lease it held can still be live: a lease runs
less than one poll interval. A younger mark is the evidence that lets the next process
break the dead owner's lease at once, so it is left for ``owner_is_gone`` to find."""


def _sweep(directory: Path, keep: Path) -> None:
    """Remove old marks dead owners left behind (killed before anyone took their lease)."""
    cutoff = time.time() - _STALE_MARK_SECONDS
    for path in directory.glob("helpdesk-sync-*.alive"):
        if path == keep:
            continue
        with suppress(OSError):
            if path.stat().st_mtime < cutoff:
                _unlink_if_unlocked(path)


def _unlink_if_unlocked(path: Path) -> bool:
    """Remove ``path`` when nobody holds its lock (its owner is dead); True when removed."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:  # no such file (or not ours to open): unknown
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # locked: alive
        return False
    else:
        with suppress(OSError):
            path.unlink()
        return True
    finally:
        os.close(fd)


def owner_is_gone(owner: str, directory: Path | None = None) -> bool:
    """True only when ``owner`` ran on this host and its process is dead (lock free)."""
    if fcntl is None:
        return False
    return _unlink_if_unlocked(_alive_path(owner, directory))


class ConnectorLease:
    """This process's lease on one connector: take it, renew it (fence), hand it over.

    Thread-safe: the scheduler's jobs, the heartbeat and the engine's fence share one.
    """

    def __init__(
        self,
        store: Store,
        connector: str,
        owner: str,
        ttl: timedelta,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        alive_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.alive_dir = alive_dir
        self.connector = connector
        self.owner = owner
        self.ttl = ttl
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = threading.RLock()
        """Serialises every lease call of this process (a renewal never revives a release)."""
        self._work = threading.Lock()
        """Held while a pass or timer check works; a handover waits until it is free."""
        self.held = False

    # ------------------------------------------------------------------ taking

    def try_acquire(self, *, defer: bool = False) -> LeaseRow | None:
        """Take or renew the lease now; None when held, else who holds it (or asks for it).

        ``defer``: leave a free lease to a process waiting for it (services and replicas).
        """
        with self._lock:
            for _ in range(3):  # a lease released between the two statements: try again
                if defer and not self.held:
                    wanted = self._wanted_by_other()
                    if wanted is not None:
                        return wanted
                if self.store.acquire_lease(self.connector, self.owner, self.ttl):
                    self._now_held()
                    return None
                holder = self.store.lease_holder(self.connector)
                if holder is not None and not self._broke_dead(holder):
                    self._now_lost(holder.owner)
                    return holder
            raise LeaseLost(f"connector {self.connector}: the lease changes hands too fast")

    def wait(self, timeout: float) -> LeaseRow | None:
        """Take the lease, waiting up to ``timeout`` seconds; None when held, else the holder.

        While waiting it keeps the ``#wanted`` row, so a service owner idle between passes
        hands the connector over instead of keeping it.
        """
        deadline = self._monotonic() + max(timeout, 0.0)
        step = min(_WAIT_STEP, self.ttl.total_seconds() / 4)
        logged = False
        try:
            while True:
                holder = self.try_acquire()
                if holder is None:
                    return None
                left = deadline - self._monotonic()
                if left <= 0:
                    return holder
                if not logged:
                    self._log_waiting(holder, timeout)
                    logged = True
                self.store.acquire_lease(wanted_key(self.connector), self.owner, self.ttl)
                self._sleep(min(step, left))
        finally:
            self._withdraw_wish()

    # ------------------------------------------------------------------ holding

    def fence(self) -> None:
        """Renew before writing; ``LeaseLost`` when this process no longer owns the connector."""
        with self._lock:
            if not self.held:
                raise LeaseLost(f"connector {self.connector}: this process holds no lease")
            try:
                if self.store.acquire_lease(self.connector, self.owner, self.ttl):
                    return
                holder = self.store.lease_holder(self.connector)
            except (SQLAlchemyError, StoreError) as exc:
                self._now_lost(None)
                raise LeaseLost(
                    f"connector {self.connector}: cannot renew the lease "
                    f"({type(exc).__name__}): stopping before writing"
                ) from None
            self._now_lost(holder.owner if holder else None)
            raise LeaseLost(
                f"connector {self.connector}: taken over by "
                f"{holder.owner if holder else 'another process'}"
            )

    def renew(self) -> None:
        """The heartbeat's renewal: keep a held lease; a lost one is only logged here."""
        try:
            self.fence()
        except LeaseLost:
            return

    @contextmanager
    def working(self) -> Iterator[None]:
        """Hold while a pass works: a handover never happens in the middle of one."""
        with self._work:
            yield

    def hand_over_if_wanted(self) -> bool:
        """Release an idle lease when another process waits for it; True when it did."""
        if not self.held or not self._work.acquire(blocking=False):
            return False
        try:
            with self._lock:
                wanted = self._wanted_by_other()
                if wanted is None or not self.held:
                    return False
                self._release("lease.handed_over", to=wanted.owner)
                return True
        finally:
            self._work.release()

    def release(self) -> None:
        """Give the lease up (clean exit, end of a ``--once`` pass or a backfill)."""
        with self._lock:
            if self.held:
                self._release("lease.released")

    # ------------------------------------------------------------------ internals

    def _release(self, event: str, **fields: str) -> None:
        self.held = False
        try:
            self.store.release_lease(self.connector, self.owner)
        except (SQLAlchemyError, StoreError) as exc:  # it runs out by itself within ttl
            log.warning(
                "cannot release lease: %s",
                type(exc).__name__,
                extra={"event": "lease.error", "connector": self.connector, "owner": self.owner},
            )
            return
        log.info(
            "lease given up",
            extra={"event": event, "connector": self.connector, "owner": self.owner, **fields},
        )

    def _broke_dead(self, holder: LeaseRow) -> bool:
        """Free a lease whose owner died on this host; True when it did (then try again)."""
        if holder.owner == self.owner or not owner_is_gone(holder.owner, self.alive_dir):
            return False
        if not self.store.release_lease(self.connector, holder.owner):  # only the dead one's
            return True  # someone else broke it first: try again
        log.warning(
            "lease of a dead process broken",
            extra={
                "event": "lease.broken",
                "connector": self.connector,
                "owner": self.owner,
                "holder": holder.owner,
            },
        )
        return True

    def _withdraw_wish(self) -> None:
        try:
            with self._lock:
                self.store.release_lease(wanted_key(self.connector), self.owner)
        except (SQLAlchemyError, StoreError):  # it runs out by itself within ttl
            return

    def _wanted_by_other(self) -> LeaseRow | None:
        wanted = self.store.lease_holder(wanted_key(self.connector))
        return wanted if wanted is not None and wanted.owner != self.owner else None

    def _now_held(self) -> None:
        if not self.held:
            self.held = True
            log.info(
                "lease taken",
                extra={
                    "event": "lease.acquired",
                    "connector": self.connector,
                    "owner": self.owner,
                    "ttl_seconds": self.ttl.total_seconds(),
                },
            )

    def _now_lost(self, holder: str | None) -> None:
        if self.held:
            self.held = False
            log.warning(
                "lease lost: this process no longer owns the connector",
                extra={
                    "event": "lease.lost",
                    "connector": self.connector,
                    "owner": self.owner,
                    "holder": holder,
                },
            )

    def _log_waiting(self, holder: LeaseRow, timeout: float) -> None:
        log.info(
            "waiting for the connector's lease",
            extra={
                "event": "lease.waiting",
                "connector": self.connector,
                "owner": self.owner,
                "holder": holder.owner,
                "expires_at": holder.expires_at.isoformat(),
                "wait_seconds": timeout,
            },
        )


class Heartbeat:
    """Renews every held lease three times per lease length; hands idle ones over.

    One daemon thread per process. ``handover``: the service's leases are released between
    passes when a ``run --once`` or ``backfill`` waits for them.
    """

    def __init__(self, leases: Iterable[ConnectorLease], *, handover: bool = False) -> None:
        self.leases = list(leases)
        self.handover = handover
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def period(self) -> float:
        """Seconds between two beats: a third of the shortest lease."""
        return min((lease.ttl.total_seconds() for lease in self.leases), default=1.0) / 3

    def start(self) -> Heartbeat:
        if self._thread is None and self.leases:
            self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def beat(self) -> None:
        """One round: renew what is held, hand over what is wanted (handover mode)."""
        for lease in self.leases:
            if self.handover and lease.hand_over_if_wanted():
                continue
            if lease.held:
                lease.renew()

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.beat()
            except Exception:  # the next beat tries again; a fence stops writes meanwhile
                log.exception("lease heartbeat failed", extra={"event": "lease.error"})

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def process_leases(
    store: Store, names: Iterable[str], ttl_of: Callable[[str], timedelta]
) -> dict[str, ConnectorLease]:
    """One lease per connector for this process, all under one new owner id."""
    owner = new_owner_id()
    return {name: ConnectorLease(store, name, owner, ttl_of(name)) for name in names}


@contextmanager
def holding(leases: dict[str, ConnectorLease], *, handover: bool = False) -> Iterator[None]:
    """Keep the leases alive while the block runs, and give every one up when it ends.

    The block holds this owner's ``AliveMark`` and a ``Heartbeat``; the leases are released
    however it ends (a clean exit), so the next process need not wait them out.
    """
    if not leases:
        yield
        return
    mark = AliveMark(next(iter(leases.values())).owner)
    beat = Heartbeat(leases.values(), handover=handover).start()
    try:
        yield
    finally:
        beat.stop()
        for lease in leases.values():
            lease.release()
        mark.close()


@contextmanager
def working(lease: ConnectorLease | None) -> Iterator[ConnectorLease | None]:
    """``lease.working()`` when there is a lease (``--dry-run`` has none)."""
    if lease is None:
        yield None
        return
    with lease.working():
        yield lease


def log_busy(lease: ConnectorLease, holder: LeaseRow) -> None:
    """The service skips a pass: who holds the connector (or waits for it) and until when."""
    waiting = holder.connector.endswith(WANTED_SUFFIX)
    log.info(
        "connector left to a waiting process; skipping this pass"
        if waiting
        else "connector held by another process; skipping this pass",
        extra={
            "event": "lease.busy",
            "connector": lease.connector,
            "owner": lease.owner,
            "holder": holder.owner,
            "holder_waiting": waiting,
            "expires_at": holder.expires_at.isoformat(),
        },
    )


def log_refused(lease: ConnectorLease, holder: LeaseRow, waited: float) -> None:
    log.warning(
        "connector busy: refused",
        extra={
            "event": "lease.refused",
            "connector": lease.connector,
            "owner": lease.owner,
            "holder": holder.owner,
            "expires_at": holder.expires_at.isoformat(),
            "waited_seconds": waited,
        },
    )
