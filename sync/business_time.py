"""Business-time arithmetic for SOP deadlines ("48 horas úteis", "5 dias úteis", "15 dias").

Pure module: it never reads the clock; callers pass the moments in. All arithmetic is done
per local calendar day in the calendar's timezone, and elapsed time is measured between
absolute (UTC) instants, so it stays correct in zones with daylight saving time even though
Brazil has had none since 2019.

Holiday tables come from the ``holidays`` package and are cached per
(country, subdivision, optional holidays, year) at module level, because the dataclass is
frozen and slotted and deadline computation is on the daemon's hot path.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = ["BusinessCalendar"]

_NAME_LANGUAGE = "en_US"
"""Language of reported holiday names; pinned because the package otherwise follows $LANG."""

_VALIDATION_YEARS = range(2020, 2031)
"""Years scanned to learn a country's optional holiday names (moveable feasts vary by year)."""

_EXTRA_HOLIDAY_NAME = "Extra holiday"
"""Name reported for dates that come from ``extra_holidays`` (the mapping gives no name)."""

_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Business hours, business days and holidays against which SOP deadlines are counted."""

    timezone: str = "America/Sao_Paulo"
    opens: time = time(8, 0)
    closes: time = time(18, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    """Working weekdays, Monday=0 … Sunday=6."""
    country: str = "BR"
    subdivision: str | None = None
    """State/province code whose holidays also apply, e.g. "SP"."""
    optional_holidays: tuple[str, ...] = ()
    """Names from the package's optional category treated as non-working, e.g. "Carnival"."""
    extra_holidays: tuple[date, ...] = ()
    """Further non-working dates (city holidays etc.) given by the mapping."""

    def __post_init__(self) -> None:
        """Validate and normalise the configuration so a bad mapping fails at load time."""
        # Accept any iterable from callers (lists from YAML) but store hashable containers:
        # the values are part of the holiday cache key.
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        optional = self.optional_holidays
        # A bare string would otherwise be split into letters.
        optional = (optional,) if isinstance(optional, str) else tuple(optional)
        object.__setattr__(self, "optional_holidays", optional)
        object.__setattr__(self, "extra_holidays", tuple(self.extra_holidays))
        _zone_or_error(self.timezone)
        _check_hours(self.opens, self.closes)
        _check_weekdays(self.weekdays)
        _check_extra_holidays(self.extra_holidays)
        _check_region(self.country, self.subdivision)
        _check_optional_names(self.country, self.subdivision, self.optional_holidays)

    # ----------------------------------------------------------------- days

    def holiday_name(self, d: date) -> str | None:
        """English name of the holiday on ``d``, or None if ``d`` is not a holiday."""
        day = _as_date(d)
        table = _holiday_table(self.country, self.subdivision, self.optional_holidays, day.year)
        name = table.get(day)
        if name is not None:
            return name
        return _EXTRA_HOLIDAY_NAME if day in self.extra_holidays else None

    def is_holiday(self, d: date) -> bool:
        """True if ``d`` is a public, selected optional or extra holiday."""
        day = _as_date(d)
        table = _holiday_table(self.country, self.subdivision, self.optional_holidays, day.year)
        return day in table or day in self.extra_holidays

    def is_business_day(self, d: date) -> bool:
        """True if ``d`` is a working weekday and not a holiday."""
        day = _as_date(d)
        return day.weekday() in self.weekdays and not self.is_holiday(day)

    # -------------------------------------------------------------- moments

    def is_business_time(self, dt: datetime) -> bool:
        """True if ``dt`` is within opening hours [opens, closes) of a business day."""
        local = self._local(dt)
        day = local.date()
        if not self.is_business_day(day):
            return False
        open_at, close_at = self._window(day)
        return open_at <= local < close_at

    def next_business_moment(self, dt: datetime) -> datetime:
        """``dt`` itself if it is business time, else the next opening (in the calendar tz)."""
        local = self._local(dt)
        day = local.date()
        if self.is_business_day(day):
            open_at, close_at = self._window(day)
            if local < open_at:
                return open_at.astimezone(local.tzinfo)
            if local < close_at:
                return local
        return self._window(self._next_business_day(day))[0].astimezone(local.tzinfo)

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """Deadline ``hours`` business hours after ``start``; landing on closing time stays there.

        Counting starts at the next opening when ``start`` is outside business time;
        ``hours=0`` returns ``start`` itself (expressed in the calendar's timezone).
        """
        local = self._local(start)
        remaining = timedelta(hours=_non_negative("hours", hours))
        if remaining == _ZERO:
            return local
        zone = local.tzinfo
        cursor = local.astimezone(UTC)
        day = local.date()
        while True:
            if self.is_business_day(day):
                open_at, close_at = self._window(day)
                if cursor < close_at:
                    begin = max(cursor, open_at)
                    available = close_at - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(zone)
                    remaining -= available
            day += _ONE_DAY

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """Same local clock time ``days`` business days after the next business moment.

        ``days=0`` returns ``start`` itself (expressed in the calendar's timezone).
        """
        local = self._local(start)
        count = _non_negative_int("days", days)
        if count == 0:
            return local
        moment = self.next_business_moment(local)
        day = moment.date()
        for _ in range(count):
            day = self._next_business_day(day)
        return datetime.combine(day, moment.time(), tzinfo=moment.tzinfo)

    def add_calendar(self, start: datetime, *, hours: float = 0, days: int = 0) -> datetime:
        """Plain calendar arithmetic for SOPs without "úteis": "48h", "15 dias".

        ``days`` keeps the local clock time (across DST changes); ``hours`` adds absolute
        elapsed time. Days are applied first.
        """
        local = self._local(start)
        span = timedelta(hours=_non_negative("hours", hours))
        count = _non_negative_int("days", days)
        if count:
            local = datetime.combine(
                local.date() + timedelta(days=count), local.time(), local.tzinfo
            )
        if span:
            local = (local.astimezone(UTC) + span).astimezone(local.tzinfo)
        return local

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time elapsed from ``a`` to ``b``; zero when ``b <= a``."""
        begin = self._local(a)
        end = self._local(b)
        if end <= begin:
            return _ZERO
        begin_utc = begin.astimezone(UTC)
        end_utc = end.astimezone(UTC)
        total = _ZERO
        day = begin.date()
        last = end.date()
        while day <= last:
            if self.is_business_day(day):
                open_at, close_at = self._window(day)
                overlap = min(close_at, end_utc) - max(open_at, begin_utc)
                if overlap > _ZERO:
                    total += overlap
            day += _ONE_DAY
        return total

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's timezone."""
        return _zone(self.timezone)

    # -------------------------------------------------------------- helpers

    def _local(self, dt: datetime) -> datetime:
        """``dt`` converted to the calendar's timezone; naive input is a caller bug."""
        if not isinstance(dt, datetime):
            raise TypeError(f"expected a datetime, got {type(dt).__name__}")
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError(f"naive datetime {dt.isoformat()}: pass a timezone-aware datetime")
        return dt.astimezone(_zone(self.timezone))

    def _window(self, day: date) -> tuple[datetime, datetime]:
        """Opening and closing instants (UTC) of ``day``, from local wall-clock times."""
        zone = _zone(self.timezone)
        return (
            datetime.combine(day, self.opens, zone).astimezone(UTC),
            datetime.combine(day, self.closes, zone).astimezone(UTC),
        )

    def _next_business_day(self, day: date) -> date:
        """First business day strictly after ``day``."""
        day += _ONE_DAY
        while not self.is_business_day(day):
            day += _ONE_DAY
        return day


# ---------------------------------------------------------------- validation


def _zone_or_error(name: str) -> ZoneInfo:
    """ZoneInfo for ``name``; the loader only catches ValueError, so translate lookup errors."""
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(
            f"unknown timezone {name!r}: use an IANA name such as 'America/Sao_Paulo'"
        ) from exc


def _check_hours(opens: time, closes: time) -> None:
    """Opening hours must be naive local times with opens < closes (same day)."""
    for label, value in (("opens", opens), ("closes", closes)):
        if not isinstance(value, time):
            raise ValueError(f"{label} must be a datetime.time, got {value!r}")
        if value.tzinfo is not None:
            raise ValueError(f"{label} must be a local time without tzinfo, got {value!r}")
    if opens >= closes:
        raise ValueError(
            f"opens ({opens.isoformat()}) must be earlier than closes ({closes.isoformat()})"
        )


def _check_weekdays(weekdays: frozenset[int]) -> None:
    """At least one weekday, each an int 0..6 (Monday=0)."""
    if not weekdays:
        raise ValueError("weekdays is empty: give at least one of 0..6 (Monday=0)")
    bad = [w for w in weekdays if isinstance(w, bool) or not isinstance(w, int) or not 0 <= w <= 6]
    if bad:
        raise ValueError(f"invalid weekdays {bad!r}: expected integers 0..6 (Monday=0)")


def _check_extra_holidays(extra: tuple[date, ...]) -> None:
    """Extra holidays must be plain dates (a datetime would never compare equal to a date)."""
    bad = [d for d in extra if isinstance(d, datetime) or not isinstance(d, date)]
    if bad:
        raise ValueError(f"extra_holidays must be dates, got {bad!r}")


def _check_region(country: str, subdivision: str | None) -> None:
    """Country and subdivision must be known to the holidays package."""
    problem = _region_problem(country, subdivision)
    if problem:
        raise ValueError(problem)


@lru_cache(maxsize=64)
def _region_problem(country: str, subdivision: str | None) -> str | None:
    """Error message for an unknown country/subdivision, else None (cached: loads repeat)."""
    supported = holidays.list_supported_countries()
    if country not in supported:
        codes = ", ".join(sorted(c for c in supported if len(c) == 2))
        return f"unknown country {country!r}: supported country codes are {codes}"
    if subdivision is None:
        return None
    try:
        holidays.country_holidays(country, subdiv=subdivision, years=())
    except NotImplementedError:
        choices = ", ".join(supported[country]) or "(none)"
        return (
            f"unknown subdivision {subdivision!r} for country {country}: "
            f"valid subdivisions are {choices}"
        )
    return None


def _check_optional_names(country: str, subdivision: str | None, names: tuple[str, ...]) -> None:
    """Each selected optional holiday must exist in the package's optional category."""
    if not names:
        return
    known = _optional_names(country, subdivision)
    if not known:
        raise ValueError(
            f"optional_holidays {list(names)!r} given, but country {country} has no "
            "optional holidays in the holidays package"
        )
    bad = [n for n in names if _normalise(n) not in known]
    if bad:
        choices = ", ".join(sorted(set(known.values())))
        raise ValueError(
            f"unknown optional holiday {', '.join(repr(n) for n in bad)} for {country}"
            f"{'-' + subdivision if subdivision else ''}: valid choices are {choices}"
        )


def _non_negative(label: str, value: float) -> float:
    """Finite, non-negative amount; negative deadlines are configuration bugs."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{label} must be a finite number, got {value!r}")
    if value < 0:
        raise ValueError(f"{label} must not be negative, got {value!r}")
    return float(value)


def _non_negative_int(label: str, value: int) -> int:
    """Non-negative whole count of days."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{label} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{label} must not be negative, got {value!r}")
    return value


def _as_date(d: date) -> date:
    """The calendar date of ``d``; datetimes are reduced so table lookups match."""
    return d.date() if isinstance(d, datetime) else d


# -------------------------------------------------------------------- caches


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    """Cached ZoneInfo lookup (hot path)."""
    return ZoneInfo(name)


def _normalise(name: str) -> str:
    """Case-, accent- and punctuation-insensitive key: "Véspera de Natal" -> "vespera de natal"."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = re.sub(r"['’`´]", "", stripped.casefold())
    return " ".join(re.sub(r"[^0-9a-z]+", " ", stripped).split())


@lru_cache(maxsize=64)
def _name_languages(country: str) -> tuple[str | None, ...]:
    """Languages whose names are accepted: English (used for display) plus the country's own."""
    cls = type(holidays.country_holidays(country, years=()))
    supported = tuple(getattr(cls, "supported_languages", ()) or ())
    default = getattr(cls, "default_language", None)
    languages: list[str | None] = []
    if _NAME_LANGUAGE in supported:
        languages.append(_NAME_LANGUAGE)
    if default and default not in languages:
        languages.append(default)
    return tuple(languages) or (None,)


@lru_cache(maxsize=64)
def _has_optional(country: str) -> bool:
    """Whether the package defines an optional category for ``country``."""
    cls = type(holidays.country_holidays(country, years=()))
    return "optional" in (getattr(cls, "supported_categories", ()) or ())


def _split(name: str) -> list[str]:
    """Individual names of a table entry; the package joins same-day holidays with "; "."""
    return [part.strip() for part in name.split(";") if part.strip()]


@lru_cache(maxsize=64)
def _optional_names(country: str, subdivision: str | None) -> dict[str, str]:
    """Normalised optional holiday name (any accepted language) -> display name."""
    if not _has_optional(country):
        return {}
    languages = _name_languages(country)
    tables = {
        lang: holidays.country_holidays(
            country,
            subdiv=subdivision,
            years=_VALIDATION_YEARS,
            categories=("optional",),
            language=lang,
        )
        for lang in languages
    }
    known: dict[str, str] = {}
    for day, shown in tables[languages[0]].items():
        shown_parts = _split(shown)
        for lang in languages:
            parts = _split(tables[lang][day])
            # Same-day entries are aligned by position; skip a translation that does not line up.
            if len(parts) == len(shown_parts):
                for part, target in zip(parts, shown_parts, strict=True):
                    known.setdefault(_normalise(part), target)
    return known


@lru_cache(maxsize=1024)
def _holiday_table(
    country: str, subdivision: str | None, optional: tuple[str, ...], year: int
) -> dict[date, str]:
    """Non-working holidays of ``year`` (public + selected optional) -> display name."""
    display = _name_languages(country)[0]
    table: dict[date, str] = dict(
        holidays.country_holidays(
            country, subdiv=subdivision, years=year, categories=("public",), language=display
        ).items()
    )
    if not optional:
        return table
    names = _optional_names(country, subdivision)
    wanted = {names[key] for key in map(_normalise, optional) if key in names}
    chosen_days = holidays.country_holidays(
        country, subdiv=subdivision, years=year, categories=("optional",), language=display
    )
    for day, name in chosen_days.items():
        chosen = [part for part in _split(name) if part in wanted]
        if chosen:
            table[day] = "; ".join([*_split(table.get(day, "")), *chosen])
    return table
