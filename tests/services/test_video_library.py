"""The video library: sorts, filters, search, keyset pages across ties, up next, the home row."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import pytest

from aura.errors import Invalid
from aura.models import Video, utcnow
from aura.services import cursors, videos
from tests.factories import make_movie, make_video_row

NOW = utcnow().replace(microsecond=0)


def every_page(limit: int = 3, **options) -> list[Video]:
    """Every video the library lists, walked page by page as a browser scrolls."""
    seen, after = [], None
    for _ in range(100):
        page = videos.library_page(after=after, limit=limit, **options)
        seen.extend(page.items)
        if page.next_cursor is None:
            return seen
        after = page.next_cursor
    raise AssertionError("the pages never ended")


def titles(items) -> list[str]:
    return [video.title for video in items]


@pytest.fixture
def ties(db):
    """Eleven videos: groups uploaded at the same moment and with the same view counts."""
    made = []
    for number in range(11):
        made.append(
            make_video_row(
                title=f"Reel {number:02d}",
                uploaded_at=NOW - timedelta(hours=number // 4),  # 4, 4 and 3 share a moment
                view_count=[5, 5, 5, 0, 0, 9, 9, 9, 9, 1, 0][number],
            )
        )
    return made


@pytest.mark.parametrize("sort", sorted(videos.LIBRARY_SORTS))
@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 11, 12])
def test_paging_across_ties_never_skips_or_repeats(ties, sort, limit):
    walked = every_page(limit=limit, sort=sort)
    assert sorted(video.id for video in walked) == sorted(video.id for video in ties)
    assert len(walked) == len(ties)
    # The walk is the same order as one big page.
    assert [v.id for v in walked] == [v.id for v in videos.library_page(sort=sort, limit=50).items]


def test_newest_first_then_the_id(ties):
    walked = every_page(limit=2)
    keys = [(video.uploaded_at, video.id) for video in walked]
    assert keys == sorted(keys, reverse=True)


def test_most_viewed_first(ties):
    counts = [video.view_count for video in every_page(sort="views")]
    assert counts == sorted(counts, reverse=True) and counts[0] == 9


def test_title_order_ignores_case(db):
    for title in ("banana", "Apple", "cherry", "apple pie"):
        make_video_row(title=title)
    assert titles(every_page(sort="title", limit=1)) == ["Apple", "apple pie", "banana", "cherry"]


def test_open_and_locked(db):
    make_video_row(title="Open one")
    make_video_row(title="Locked one", password_hash="scrypt:hash")
    assert titles(videos.library_page(show="open").items) == ["Open one"]
    assert titles(videos.library_page(show="locked").items) == ["Locked one"]
    assert set(titles(videos.library_page(show="all").items)) == {"Open one", "Locked one"}


@pytest.mark.parametrize(
    ("sort", "show"), [("newest", "secret"), ("oldest", "all"), ("views; drop", None)]
)
def test_unknown_sorts_and_filters_are_invalid(db, sort, show):
    with pytest.raises(Invalid):
        videos.library_page(sort=sort, show=show)


def test_search_matches_every_word_in_title_or_description(db):
    make_video_row(title="Night shoot", description="Behind the camera at dusk")
    make_video_row(title="Day shoot", description="Sunlight and camera drones")
    make_video_row(title="Interview")

    def found(query):
        return sorted(titles(videos.library_page(query=videos.library_query(query)).items))

    assert found("shoot") == ["Day shoot", "Night shoot"]
    assert found("CAMERA dusk") == ["Night shoot"]
    assert found("interv") == ["Interview"]
    assert found("nothing like it") == []
    assert found("") == ["Day shoot", "Interview", "Night shoot"]


HOSTILE = [
    "%",
    "_",
    "%_%",
    "\\",
    "\\%",
    "a\x00b",
    "\x00" * 50,
    "x" * 10_000,
    "🎬🍿",
    "\u202e\u200fevil\u202c",
    "<script>alert(1)</script>",
    'hx-get="/supervisor/users" hx-trigger="load"',
    "' OR 1=1 --",
    "]]>\"'`",
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_search_text_is_bounded_and_literal(db, query):
    make_video_row(title="Plain reel", description="Nothing special")
    cleaned = videos.library_query(query)
    assert len(cleaned) <= videos.SEARCH_MAX_CHARS and "\x00" not in cleaned
    # LIKE's own characters are taken literally: "%" and "_" do not match everything.
    assert titles(videos.library_page(query=cleaned).items) == ([] if cleaned else ["Plain reel"])


def test_like_characters_match_themselves(db):
    make_video_row(title="100% cotton")
    make_video_row(title="snake_case")
    make_video_row(title="back\\slash")
    make_video_row(title="Plain")
    assert titles(videos.library_page(query="100%").items) == ["100% cotton"]
    assert titles(videos.library_page(query="e_c").items) == ["snake_case"]
    assert titles(videos.library_page(query="k\\s").items) == ["back\\slash"]


def test_emoji_and_right_to_left_titles_are_found(db):
    make_video_row(title="🎬 Clapper reel")
    make_video_row(title="مرحبا بالعالم")
    assert titles(videos.library_page(query="🎬").items) == ["🎬 Clapper reel"]
    assert titles(videos.library_page(query="بالعالم").items) == ["مرحبا بالعالم"]


def test_search_filter_and_sort_together_page_by_keyset(db):
    for number in range(7):
        make_video_row(
            title=f"Match {number}",
            view_count=number % 2,
            password_hash="h" if number % 3 == 0 else None,
        )
    make_video_row(title="Other", view_count=100)
    walked = every_page(limit=2, sort="views", show="open", query="match")
    assert sorted(titles(walked)) == ["Match 1", "Match 2", "Match 4", "Match 5"]
    assert [video.view_count for video in walked] == [1, 1, 0, 0]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        cursors.encode("datetime", NOW, 5),  # a number where a video's id belongs
        cursors.encode("number", 3, uuid.uuid4()),  # a key of another sort
        cursors.encode("datetime", NOW, 2**70),  # an id past 64 bits
        "W10",
    ],
)
def test_cursors_not_made_by_the_library_are_refused(db, cursor):
    make_video_row()
    with pytest.raises(cursors.BadCursor):
        videos.library_page(after=cursor)


def test_up_next_follows_the_newest_first_order_skipping_hidden_films(db):
    hidden = make_movie("Hidden film", hidden=True)
    first = make_video_row(title="First", uploaded_at=NOW)
    make_video_row(title="Of a hidden film", movie=hidden, uploaded_at=NOW - timedelta(hours=1))
    third = make_video_row(title="Third", uploaded_at=NOW - timedelta(hours=2))
    assert videos.up_next(first).title == "Third"
    assert videos.up_next(first, include_hidden=True).title == "Of a hidden film"
    assert videos.up_next(third) is None


def test_up_next_across_a_tie(db):
    same = [make_video_row(title=f"Tie {n}", uploaded_at=NOW) for n in range(4)]
    order = videos.library_page(limit=10).items
    assert {v.id for v in order} == {v.id for v in same}
    for current, following in itertools.pairwise(order):
        assert videos.up_next(current).id == following.id
    assert videos.up_next(order[-1]) is None


def test_newest_videos_for_the_home_row(db):
    for number in range(5):
        make_video_row(title=f"Reel {number}", uploaded_at=NOW - timedelta(minutes=number))
    assert titles(videos.newest_videos(3)) == ["Reel 0", "Reel 1", "Reel 2"]
