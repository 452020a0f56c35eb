import base64
import json
import uuid
from datetime import UTC, date, datetime

import pytest

from aura.errors import Invalid
from aura.services import cursors

MOMENT = datetime(2026, 11, 21, 13, 56, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("number", 0.0),
        ("number", 3.25),
        ("number", 1e-12),
        ("number", 7),
        ("date", date(1999, 12, 31)),
        ("datetime", datetime(2026, 11, 21, 13, 56, 1, 123456, tzinfo=UTC)),
        ("text", "the godfather ☕ \u202e"),
    ],
)
def test_a_cursor_round_trips_its_key_exactly(kind, value):
    assert cursors.decode(cursors.encode(kind, value, 42), kind) == (value, 42)


def test_a_cursor_of_another_kind_is_refused():
    for kind in ("date", "datetime", "text"):
        with pytest.raises(Invalid):
            cursors.decode(cursors.encode("number", 1.5, 1), kind)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not-base64!!",
        "e30",  # {}
        "W10",  # []
        "x" * 500,
        "WyJudW1iZXIiLDEuMCx0cnVlXQ",  # ["number",1.0,true]: a boolean id
        "WyJudW1iZXIiLCJOYU4iLDFd",  # ["number","NaN",1]: a string where a number belongs
        "WyJudW1iZXIiLDEuMCwtMV0",  # ["number",1.0,-1]: a negative id
        "WyJudW1iZXIiLDFlOTk5LDFd",  # ["number",1e999,1]: infinity
        "\u202e\u0000",
    ],
)
def test_anything_else_is_refused_as_invalid(garbage):
    with pytest.raises(Invalid):
        cursors.decode(garbage, "number")


def test_dates_and_times_must_be_real():
    with pytest.raises(Invalid):
        cursors.decode(cursors.encode("text", "2020-13-01", 1).replace("dGV4dC", "ZGF0ZS"), "date")
    naive = cursors.encode("text", "2026-01-01T00:00:00", 1)
    with pytest.raises(Invalid):
        cursors.decode(naive, "datetime")


def test_a_cursor_with_a_video_id_round_trips():
    video_id = uuid.uuid4()
    cursor = cursors.encode("datetime", MOMENT, video_id)
    assert cursors.decode(cursor, "datetime", uuid_ids=True) == (MOMENT, video_id)
    with pytest.raises(Invalid):
        cursors.decode(cursor, "datetime")  # a numeric-id list refuses it
    with pytest.raises(Invalid):
        cursors.decode(cursors.encode("datetime", MOMENT, 7), "datetime", uuid_ids=True)
    # Only Aura's own spelling of an id: 32 lower-case hex digits.
    for odd in ("0_" * 16, video_id.hex.upper(), str(video_id), "g" * 32, "{" + "0" * 30 + "}"):
        raw = json.dumps(["datetime", MOMENT.isoformat(), odd]).encode()
        forged = base64.urlsafe_b64encode(raw).decode()
        with pytest.raises(Invalid):
            cursors.decode(forged, "datetime", uuid_ids=True)
