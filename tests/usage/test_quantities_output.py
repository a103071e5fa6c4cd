"""`quantities` output (issue 16): each row labelled by its bucket's start, CSV numbers as the
text shows them, one timestamp format in JSON."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from reconciler.render.chart import bucket_label
from tests.support.e2e import Api, copy_examples
from tests.support.inproc import invoke

TOKYO = ZoneInfo("Asia/Tokyo")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize(("timestamp", "interval", "zone", "label"), [
    # a week's series from Sunday 2026-11-22 (Tokyo) holds the Monday-Sunday week of Nov 16
    ("2026-11-21T15:00:00Z", "week", TOKYO, "2026-11-16"),
    ("2026-11-28T15:00:00Z", "week", TOKYO, "2026-11-23"),
    # the same moment is still Saturday the 21st in Los Angeles: the week of Nov 16 too
    ("2026-11-21T15:00:00Z", "week", LOS_ANGELES, "2026-11-16"),
    ("2026-11-23T07:30:00Z", "week", LOS_ANGELES, "2026-11-16"),  # Sunday 23:30 there
    ("2026-11-23T08:30:00Z", "week", LOS_ANGELES, "2026-11-23"),  # Monday 00:30 there
    ("2026-10-31T15:30:00Z", "month", TOKYO, "2026-11"),  # Nov 1, 00:30 in Tokyo
    ("2026-10-31T15:30:00Z", "month", LOS_ANGELES, "2026-10"),
    ("2026-12-31T16:00:00Z", "year", TOKYO, "2027"),
    ("2026-12-31T16:00:00Z", "year", LOS_ANGELES, "2026"),
    ("2026-11-21T15:45:00Z", "hour", TOKYO, "2026-11-22 00:00"),
])
def test_labels_are_bucket_starts_in_the_zone(timestamp: str, interval: str, zone: ZoneInfo,
                                              label: str) -> None:
    assert bucket_label(timestamp, interval, zone) == label


def test_csv_numbers_and_json_timestamps(emu, tmp_path) -> None:
    api = Api(emu)
    meters = copy_examples(tmp_path)
    assert invoke("apply", "--auto-approve", str(meters), env=api.env).code == 0
    events = [json.loads(line) for line in (tmp_path / "events" / "llm.jsonl").read_text().splitlines()]
    assert api.http.post("/v1/events/ingest", json={"events": events}).status_code == 200
    args = ("quantities", "llm-input-tokens", "--start", "2026-10-01", "--end", "2026-10-03",
            "--timezone", "Europe/Paris")
    csv_rows = invoke(*args, "--format", "csv", env=api.env).out.splitlines()
    assert [row.split(",")[1] for row in csv_rows[1:]][:1] == ["2650"], csv_rows
    assert all(row.split(",")[0].endswith("Z") for row in csv_rows[1:]), csv_rows
    doc = json.loads(invoke(*args, "--format", "json", env=api.env).out)
    stamps = [doc["start_timestamp"], doc["end_timestamp"],
              *(b["timestamp"] for b in doc["quantities"])]
    assert doc["start_timestamp"] == "2026-09-30T22:00:00Z"  # midnight in Paris
    assert all(s.endswith("Z") and "+" not in s for s in stamps), stamps
