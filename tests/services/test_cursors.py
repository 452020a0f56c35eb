from datetime import date

import pytest

from aura.errors import Invalid
from aura.services import cursors


@pytest.mark.parametrize("value", [0.0, 3.25, 1e-12, 123456789.123, 7, date(1999, 12, 31)])
def test_a_cursor_round_trips_its_value_exactly(value):
    assert cursors.decode(cursors.encode(value, 42)) == (value, 42)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not-base64!!",
        "e30",  # {}
        "W10",  # []
        "x" * 500,
        "WyJuIiwxLjAsdHJ1ZV0",  # ["n",1.0,true]: a boolean id
        "WyJuIiwiTmFOIiwxXQ",  # ["n","NaN",1]: a string where a number belongs
        "WyJkIiwiMjAyMC0xMy0wMSIsMV0",  # ["d","2020-13-01",1]: no such date
        "WyJuIiwxLjAsLTFd",  # ["n",1.0,-1]: a negative id
        "WyJ6IiwxLjAsMV0",  # ["z",1.0,1]: an unknown kind
        "\u202e\u0000",
    ],
)
def test_anything_else_is_refused_as_invalid(garbage):
    with pytest.raises(Invalid):
        cursors.decode(garbage)
