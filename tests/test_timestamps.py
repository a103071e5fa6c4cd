"""The one timestamp parser: each policy its callers need."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from reconciler.timestamps import (
    BAD_FORMAT,
    NO_TIMEZONE,
    WRONG_TYPE,
    TimestampError,
    json_timestamp,
    parse_timestamp,
)

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-01T08:00:00Z", datetime(2026, 10, 1, 8, tzinfo=UTC)),
        ("2026-10-01t08:00:00z", datetime(2026, 10, 1, 8, tzinfo=UTC)),
        ("2026-10-01 08:00:00+02:00", datetime(2026, 10, 1, 6, tzinfo=UTC)),
        ("2026-10-01_08:00+0200", datetime(2026, 10, 1, 6, tzinfo=UTC)),
        ("2026-10-01T08:00:00+02", datetime(2026, 10, 1, 6, tzinfo=UTC)),
        ("2026-10-01T08:00:00.123456789Z", datetime(2026, 10, 1, 8, 0, 0, 123456, tzinfo=UTC)),
        ("2026-10-01T08:00:00.5Z", datetime(2026, 10, 1, 8, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_aware_texts(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


def test_without_offset_policy() -> None:
    with pytest.raises(TimestampError) as caught:
        parse_timestamp("2026-01-01T00:00:00")
    assert caught.value.kind == NO_TIMEZONE
    assert "no timezone" in str(caught.value)
    assert parse_timestamp("2026-01-01", naive=PARIS) == datetime(2026, 1, 1, tzinfo=PARIS)
    assert parse_timestamp("2026-07-01T10:00", naive=PARIS).utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize("text", ["yesterday", "2026-W01", "20260101T000000Z", "2026-13-01",
                                  "2026-01-01T25:00:00Z", ""])
def test_bad_formats(text: str) -> None:
    with pytest.raises(TimestampError) as caught:
        parse_timestamp(text, naive=UTC)
    assert caught.value.kind == BAD_FORMAT


def test_epoch_only_where_asked() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    seconds = int(moment.timestamp())
    assert parse_timestamp(seconds, epoch=True) == moment
    assert parse_timestamp(str(seconds), epoch=True) == moment
    assert parse_timestamp(seconds * 1000, epoch=True) == moment  # pydantic: milliseconds
    with pytest.raises(TimestampError) as caught:
        parse_timestamp(seconds)
    assert caught.value.kind == WRONG_TYPE
    with pytest.raises(TimestampError):
        parse_timestamp(str(seconds))
    with pytest.raises(TimestampError):
        parse_timestamp(True, epoch=True)


def test_json_timestamp_is_one_format() -> None:
    assert json_timestamp(datetime(2026, 10, 1, 10, tzinfo=timezone(timedelta(hours=2)))) == (
        "2026-10-01T08:00:00Z"
    )
    assert json_timestamp(datetime(2026, 10, 1, 8, 0, 0, 5, tzinfo=UTC)) == (
        "2026-10-01T08:00:00.000005Z"
    )
