"""Tests for sync.business_time: SOP deadlines in business hours/days on the Brazilian calendar."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.business_time import BusinessCalendar

SP = ZoneInfo("America/Sao_Paulo")
BRT = timezone(timedelta(hours=-3))
CAL = BusinessCalendar()


def brt(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Wall-clock moment at a fixed -03:00 offset (what São Paulo uses since 2019)."""
    return datetime(year, month, day, hour, minute, tzinfo=BRT)


def assert_in_sp(result: datetime, expected: datetime) -> None:
    """Same instant as ``expected`` and expressed in the calendar's zone at -03:00."""
    assert result == expected
    assert result.tzinfo == SP
    assert result.utcoffset() == timedelta(hours=-3)


# ------------------------------------------------------------ add_business_hours


def test_48_business_hours_skip_national_holiday_and_weekend() -> None:
    # Thu 19 16-18 = 2h; Fri 20 holiday (Zumbi); Sat 21/Sun 22 weekend;
    # Mon 23 10h, Tue 24 10h, Wed 25 10h, Thu 26 10h -> 42h; Fri 27 +6h from 08:00 -> 14:00.
    result = CAL.add_business_hours(brt(2026, 11, 19, 16), 48)
    assert_in_sp(result, brt(2026, 11, 27, 14))


def test_start_before_opening_counts_from_opening() -> None:
    assert_in_sp(CAL.add_business_hours(brt(2026, 11, 23, 6, 30), 3), brt(2026, 11, 23, 11))


def test_start_after_closing_counts_from_next_opening() -> None:
    assert_in_sp(CAL.add_business_hours(brt(2026, 11, 23, 19), 3), brt(2026, 11, 24, 11))


def test_start_on_saturday_counts_from_monday_opening() -> None:
    assert_in_sp(CAL.add_business_hours(brt(2026, 11, 21, 10), 2), brt(2026, 11, 23, 10))


def test_start_on_holiday_counts_from_next_business_day() -> None:
    # Fri 20 is a holiday, then the weekend.
    assert_in_sp(CAL.add_business_hours(brt(2026, 11, 20, 9), 1), brt(2026, 11, 23, 9))


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (brt(2026, 11, 23, 16), 2, brt(2026, 11, 23, 18)),
        (brt(2026, 11, 23, 8), 10, brt(2026, 11, 23, 18)),
        # Whole days land on closing of the last day, never on the next morning.
        (brt(2026, 11, 23, 8), 20, brt(2026, 11, 24, 18)),
        # Thu 19 16:00 + 2h ends at Thursday's closing, not on the Monday after the holiday.
        (brt(2026, 11, 19, 16), 2, brt(2026, 11, 19, 18)),
        (brt(2026, 11, 23, 8), 10.5, brt(2026, 11, 24, 8, 30)),
    ],
)
def test_deadline_landing_on_closing_stays_at_closing(
    start: datetime, hours: float, expected: datetime
) -> None:
    assert_in_sp(CAL.add_business_hours(start, hours), expected)


def test_fractional_hours() -> None:
    assert_in_sp(CAL.add_business_hours(brt(2026, 11, 23, 17, 30), 0.75), brt(2026, 11, 24, 8, 15))


def test_utc_input_returns_sao_paulo_time() -> None:
    start = datetime(2026, 11, 19, 19, 0, tzinfo=UTC)  # = Thu 16:00 -03:00
    result = CAL.add_business_hours(start, 48)
    assert_in_sp(result, brt(2026, 11, 27, 14))
    assert result == datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    assert (result.hour, result.minute) == (14, 0)


def test_christmas_is_skipped() -> None:
    # Thu 24 17-18 = 1h (Christmas Eve is optional, not selected); Fri 25 Christmas;
    # weekend; Mon 28 08:00 + 1h.
    assert_in_sp(CAL.add_business_hours(brt(2026, 12, 24, 17), 2), brt(2026, 12, 28, 9))


def test_zero_hours_returns_start_unchanged_even_outside_business_time() -> None:
    saturday = brt(2026, 11, 21, 10)
    assert_in_sp(CAL.add_business_hours(saturday, 0), saturday)
    utc_start = datetime(2026, 11, 21, 13, tzinfo=UTC)
    assert CAL.add_business_hours(utc_start, 0) == utc_start


@pytest.mark.parametrize("hours", [-1, -0.001, math.nan, math.inf])
def test_negative_or_non_finite_hours_rejected(hours: float) -> None:
    with pytest.raises(ValueError, match="hours"):
        CAL.add_business_hours(brt(2026, 11, 23, 10), hours)


# ---------------------------------------------------------- moments and days


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (brt(2026, 11, 23, 8), True),
        (datetime(2026, 11, 23, 17, 59, 59, tzinfo=BRT), True),
        (brt(2026, 11, 23, 18), False),
        (brt(2026, 11, 23, 7, 59), False),
        (brt(2026, 11, 21, 10), False),  # Saturday
        (brt(2026, 11, 20, 10), False),  # national holiday
        (datetime(2026, 11, 23, 11, tzinfo=UTC), True),  # 08:00 local
    ],
)
def test_is_business_time(moment: datetime, expected: bool) -> None:
    assert CAL.is_business_time(moment) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (brt(2026, 11, 23, 10), brt(2026, 11, 23, 10)),
        (brt(2026, 11, 23, 6), brt(2026, 11, 23, 8)),
        (brt(2026, 11, 23, 18), brt(2026, 11, 24, 8)),
        (brt(2026, 11, 19, 18), brt(2026, 11, 23, 8)),  # Fri holiday + weekend
        (brt(2026, 11, 21, 12), brt(2026, 11, 23, 8)),
    ],
)
def test_next_business_moment(moment: datetime, expected: datetime) -> None:
    assert_in_sp(CAL.next_business_moment(moment), expected)


def test_holiday_queries() -> None:
    zumbi = date(2026, 11, 20)
    assert CAL.is_holiday(zumbi)
    assert not CAL.is_business_day(zumbi)
    assert "Zumbi" in (CAL.holiday_name(zumbi) or "")
    assert CAL.is_holiday(date(2026, 11, 15))  # Sunday holiday
    assert CAL.holiday_name(date(2026, 12, 25)) == "Christmas Day"
    assert CAL.holiday_name(date(2026, 11, 23)) is None
    assert CAL.is_business_day(date(2026, 11, 23))
    assert not CAL.is_business_day(date(2026, 11, 21))


def test_add_business_days_across_holiday() -> None:
    # Thu 19 10:00: Fri 20 holiday, weekend; Mon 23 (1), Tue 24 (2), Wed 25 (3),
    # Thu 26 (4), Fri 27 (5) -> Fri 27 10:00.
    assert_in_sp(CAL.add_business_days(brt(2026, 11, 19, 10), 5), brt(2026, 11, 27, 10))


def test_add_business_days_rolls_start_to_next_business_moment() -> None:
    # Sat 15:00 rolls to Mon 23 08:00, then one business day -> Tue 24 08:00.
    assert_in_sp(CAL.add_business_days(brt(2026, 11, 21, 15), 1), brt(2026, 11, 24, 8))
    # Thu 19 after closing rolls to Mon 23 08:00 -> +2 -> Wed 25 08:00.
    assert_in_sp(CAL.add_business_days(brt(2026, 11, 19, 19), 2), brt(2026, 11, 25, 8))


def test_add_business_days_zero_and_negative() -> None:
    saturday = brt(2026, 11, 21, 15)
    assert_in_sp(CAL.add_business_days(saturday, 0), saturday)
    with pytest.raises(ValueError, match="days"):
        CAL.add_business_days(saturday, -1)


# ------------------------------------------------------------- configuration


def test_carnival_only_a_holiday_when_selected() -> None:
    carnival_monday = date(2026, 2, 16)
    assert CAL.is_business_day(carnival_monday)
    assert CAL.holiday_name(carnival_monday) is None
    # Fri 13 17:00 + 2h: 1h Friday, 1h on the next business morning.
    assert_in_sp(CAL.add_business_hours(brt(2026, 2, 13, 17), 2), brt(2026, 2, 16, 9))

    with_carnival = BusinessCalendar(optional_holidays=("Carnival",))
    assert not with_carnival.is_business_day(carnival_monday)
    assert not with_carnival.is_business_day(date(2026, 2, 17))
    assert with_carnival.is_business_day(date(2026, 2, 18))  # Ash Wednesday not selected
    assert with_carnival.holiday_name(carnival_monday) == "Carnival"
    assert_in_sp(with_carnival.add_business_hours(brt(2026, 2, 13, 17), 2), brt(2026, 2, 18, 9))


@pytest.mark.parametrize(
    ("spelling", "day"),
    [
        ("carnival", date(2026, 2, 17)),
        ("CARNAVAL", date(2026, 2, 16)),  # the package's pt-BR name
        ("corpus christi", date(2026, 6, 4)),
        ("Public Servants Day", date(2026, 10, 28)),
        ("dia do servidor publico", date(2026, 10, 28)),  # accent-insensitive
        ("Véspera de Natal", date(2026, 12, 24)),
    ],
)
def test_optional_names_match_case_and_accent_insensitively(spelling: str, day: date) -> None:
    cal = BusinessCalendar(optional_holidays=(spelling,))
    assert cal.is_holiday(day)
    assert not CAL.is_holiday(day)


def test_state_holiday_only_with_subdivision() -> None:
    revolution = date(2026, 7, 9)
    assert CAL.is_business_day(revolution)
    sp = BusinessCalendar(subdivision="SP")
    assert not sp.is_business_day(revolution)
    assert sp.holiday_name(revolution) == "Constitutionalist Revolution"
    # Wed 8 17:00 + 2h -> Wed 1h, Thu 9 holiday in SP -> Fri 10 09:00.
    assert_in_sp(sp.add_business_hours(brt(2026, 7, 8, 17), 2), brt(2026, 7, 10, 9))
    assert_in_sp(CAL.add_business_hours(brt(2026, 7, 8, 17), 2), brt(2026, 7, 9, 9))


def test_extra_holidays() -> None:
    city = date(2026, 1, 20)  # Tuesday, e.g. a city's patron saint day
    cal = BusinessCalendar(extra_holidays=(city,))
    assert CAL.is_business_day(city)
    assert cal.is_holiday(city)
    assert not cal.is_business_day(city)
    assert cal.holiday_name(city) == "Extra holiday"
    assert_in_sp(cal.add_business_days(brt(2026, 1, 19, 9), 1), brt(2026, 1, 21, 9))
    assert_in_sp(cal.add_business_hours(brt(2026, 1, 19, 17), 2), brt(2026, 1, 21, 9))


def test_list_inputs_are_normalised_to_hashable_fields() -> None:
    cal = BusinessCalendar(
        weekdays=[0, 1, 2, 3, 4],  # type: ignore[arg-type]
        optional_holidays=["Carnival"],  # type: ignore[arg-type]
        extra_holidays=[date(2026, 1, 20)],  # type: ignore[arg-type]
    )
    assert cal.weekdays == frozenset({0, 1, 2, 3, 4})
    assert cal.optional_holidays == ("Carnival",)
    assert cal.extra_holidays == (date(2026, 1, 20),)
    assert hash(cal) == hash(cal)
    single = BusinessCalendar(optional_holidays="Carnival")  # type: ignore[arg-type]
    assert single.optional_holidays == ("Carnival",)


def test_custom_hours_and_weekdays() -> None:
    cal = BusinessCalendar(opens=time(9), closes=time(13), weekdays=frozenset({5}))
    # Only Saturdays 09-13: Sat 21 12:00 + 3h -> 1h, then Sat 28 09:00 + 2h.
    assert_in_sp(cal.add_business_hours(brt(2026, 11, 21, 12), 3), brt(2026, 11, 28, 11))


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"timezone": "America/Sao_Pablo"}, ["'America/Sao_Pablo'"]),
        ({"opens": time(18), "closes": time(8)}, ["opens (18:00:00)", "closes (08:00:00)"]),
        ({"opens": time(9), "closes": time(9)}, ["09:00"]),
        ({"weekdays": frozenset()}, ["weekdays", "0..6"]),
        ({"weekdays": frozenset({0, 7})}, ["[7]", "0..6"]),
        ({"country": "XX"}, ["'XX'", "BR", "PT"]),
        ({"subdivision": "ZZ"}, ["'ZZ'", "SP", "RJ"]),
        ({"optional_holidays": ("Carnivale",)}, ["'Carnivale'", "Carnival", "Corpus Christi"]),
        ({"optional_holidays": ("Christmas Day",)}, ["'Christmas Day'", "Christmas Eve"]),
        ({"extra_holidays": (datetime(2026, 1, 20, tzinfo=UTC),)}, ["extra_holidays"]),
    ],
)
def test_bad_configuration_names_the_value(kwargs: dict[str, Any], fragments: list[str]) -> None:
    with pytest.raises(ValueError, match=r".") as info:
        BusinessCalendar(**kwargs)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_hot_path_does_not_rebuild_holiday_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    cal = BusinessCalendar(subdivision="SP", optional_holidays=("Carnival",))
    start = brt(2026, 11, 19, 16)
    expected = cal.add_business_hours(start, 48)  # warms the 2026 table

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("holidays object built on the hot path")

    monkeypatch.setattr(holidays, "country_holidays", forbidden)
    for _ in range(100):
        assert cal.add_business_hours(start, 48) == expected
        assert cal.add_business_days(start, 5) == brt(2026, 11, 27, 16)


# ------------------------------------------------------------- add_calendar


def test_add_calendar_days_and_hours_ignore_business_time() -> None:
    start = brt(2026, 11, 19, 16)
    assert_in_sp(CAL.add_calendar(start, days=15), brt(2026, 12, 4, 16))
    # 48h lands on Saturday: no business-hours logic applies.
    assert_in_sp(CAL.add_calendar(start, hours=48), brt(2026, 11, 21, 16))
    assert_in_sp(CAL.add_calendar(start, days=1, hours=2), brt(2026, 11, 20, 18))
    assert_in_sp(CAL.add_calendar(start), start)
    assert_in_sp(
        CAL.add_calendar(datetime(2026, 11, 19, 19, tzinfo=UTC), days=15), brt(2026, 12, 4, 16)
    )


def test_add_calendar_rejects_negative() -> None:
    with pytest.raises(ValueError, match="days"):
        CAL.add_calendar(brt(2026, 11, 19, 16), days=-1)
    with pytest.raises(ValueError, match="hours"):
        CAL.add_calendar(brt(2026, 11, 19, 16), hours=-1)


def test_dst_zone_days_keep_clock_time_and_hours_are_elapsed() -> None:
    ny = ZoneInfo("America/New_York")
    cal = BusinessCalendar(timezone="America/New_York", country="US")
    start = datetime(2026, 3, 7, 10, tzinfo=ny)  # EST; DST starts Sun 2026-03-08 02:00
    after_days = cal.add_calendar(start, days=1)
    assert (after_days.hour, after_days.utcoffset()) == (10, timedelta(hours=-4))
    # Only 23 real hours elapsed (subtracting in one zoneinfo would show the 24h wall gap).
    assert after_days.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)
    after_hours = cal.add_calendar(start, hours=24)
    assert (after_hours.day, after_hours.hour) == (8, 11)


def test_dst_day_business_window_is_measured_in_elapsed_time() -> None:
    ny = ZoneInfo("America/New_York")
    cal = BusinessCalendar(
        timezone="America/New_York",
        country="US",
        opens=time(0),
        closes=time(12),
        weekdays=frozenset(range(7)),
    )
    # 2026-03-08 00:00-12:00 local lasts 11 real hours (02:00 -> 03:00 is skipped).
    day_start = datetime(2026, 3, 8, 0, tzinfo=ny)
    closing = datetime(2026, 3, 8, 12, tzinfo=ny)
    assert cal.business_time_between(day_start, closing) == timedelta(hours=11)
    assert cal.add_business_hours(day_start, 11) == closing
    assert cal.add_business_hours(day_start, 12) == datetime(2026, 3, 9, 1, tzinfo=ny)


# ----------------------------------------------------- business_time_between


def test_business_time_between_across_weekend() -> None:
    # Fri 27 16-18 = 2h, weekend 0h, Mon 30 08-10 = 2h.
    assert CAL.business_time_between(brt(2026, 11, 27, 16), brt(2026, 11, 30, 10)) == timedelta(
        hours=4
    )


def test_business_time_between_across_holiday_and_outside_hours() -> None:
    # Thu 19 16-18 = 2h, Fri 20 holiday, weekend, Mon 23 08-10 = 2h; 05:00 and 22:00 count 0.
    a = brt(2026, 11, 19, 16)
    assert CAL.business_time_between(a, brt(2026, 11, 23, 10)) == timedelta(hours=4)
    assert CAL.business_time_between(brt(2026, 11, 23, 5), brt(2026, 11, 23, 22)) == timedelta(
        hours=10
    )


def test_business_time_between_reversed_or_equal_is_zero() -> None:
    a = brt(2026, 11, 23, 10)
    assert CAL.business_time_between(a, a) == timedelta(0)
    assert CAL.business_time_between(brt(2026, 11, 24, 10), a) == timedelta(0)


# ----------------------------------------------------------------- naive input


@pytest.mark.parametrize(
    "call",
    [
        lambda dt: CAL.add_business_hours(dt, 1),
        lambda dt: CAL.add_business_hours(dt, 0),
        lambda dt: CAL.add_business_days(dt, 1),
        lambda dt: CAL.add_calendar(dt, days=1),
        lambda dt: CAL.next_business_moment(dt),
        lambda dt: CAL.is_business_time(dt),
        lambda dt: CAL.business_time_between(dt, brt(2026, 11, 24)),
        lambda dt: CAL.business_time_between(brt(2026, 11, 22), dt),
    ],
)
def test_naive_datetime_rejected(call: Any) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        call(datetime(2026, 11, 23, 10))


# ------------------------------------------------------------------ property

ZONES = st.sampled_from([SP, ZoneInfo("UTC"), ZoneInfo("Europe/Lisbon"), BRT])
PROPERTY_CALENDARS = [
    CAL,
    BusinessCalendar(subdivision="SP", optional_holidays=("Carnival", "Corpus Christi")),
]


@settings(max_examples=300, deadline=None, database=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2027, 12, 31, 23, 59, 59),
        timezones=ZONES,
    ),
    hours=st.floats(min_value=0.5, max_value=200, allow_nan=False, allow_infinity=False),
    which=st.sampled_from(range(len(PROPERTY_CALENDARS))),
)
def test_add_business_hours_property(start: datetime, hours: float, which: int) -> None:
    cal = PROPERTY_CALENDARS[which]
    result = cal.add_business_hours(start, hours)
    assert result.tzinfo == SP
    assert result >= start
    at_closing = (
        cal.is_business_day(result.date()) and result.timetz().replace(tzinfo=None) == cal.closes
    )
    assert cal.is_business_time(result) or at_closing
    elapsed = cal.business_time_between(start, result)
    assert abs(elapsed - timedelta(hours=hours)) < timedelta(seconds=1)
    if cal.is_business_time(start):
        assert cal.next_business_moment(start) == start
