"""The video library at /videos: page and fragment, scrolling without JavaScript, sorts,
filters and search, bad input, generated thumbnails, the navigation, home and up next."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from aura.extensions import db as _db
from aura.models import Video, utcnow
from aura.services import cursors
from tests.conftest import login_as
from tests.factories import (
    VIDEO_PASSWORD,
    make_movie,
    make_supervisor,
    make_video_row,
    store_video,
)

NOW = utcnow().replace(microsecond=0)


def is_page(response) -> bool:
    return "<html" in response.text


def shown_titles(response) -> list[str]:
    return [
        html.unescape(t)
        for t in re.findall(r'<span class="card-title">([^<]*)</span>', response.text)
    ]


def next_link(response) -> str | None:
    match = re.search(r'<a class="button button-ghost next-page" href="([^"]+)"', response.text)
    return html.unescape(match.group(1)) if match else None


def many(count: int, **fields) -> list:
    return [
        make_video_row(title=f"Reel {n:02d}", uploaded_at=NOW - timedelta(minutes=n), **fields)
        for n in range(count)
    ]


def test_the_list_is_a_page_and_a_fragment(client, db, hx):
    make_video_row(title="Only reel")
    page = client.get("/videos")
    fragment = client.get("/videos", headers=hx)
    for response in (page, fragment):
        assert response.status_code == 200
        assert "HX-Request" in response.headers["Vary"]
        assert shown_titles(response) == ["Only reel"]
    assert is_page(page) and not is_page(fragment)
    for headers in ({**hx, "HX-Boosted": "true"}, {**hx, "HX-History-Restore-Request": "true"}):
        assert is_page(client.get("/videos", headers=headers))


def test_scrolling_by_keyset_both_ways(client, db, hx):
    """The first page links to the next; a browser without JavaScript follows the link to a
    whole page, htmx gets the next cards and a new sentinel. Nothing repeats or goes missing."""
    many(30)
    first = client.get("/videos")
    assert shown_titles(first) == [f"Reel {n:02d}" for n in range(24)]
    url = next_link(first)
    assert url.startswith("/videos?after=") and "offset" not in url
    assert 'hx-trigger="intersect once"' in first.text
    plain = client.get(url)
    assert is_page(plain) and shown_titles(plain) == [f"Reel {n:02d}" for n in range(24, 30)]
    fragment = client.get(url, headers=hx)
    assert not is_page(fragment) and "HX-Request" in fragment.headers["Vary"]
    assert shown_titles(fragment) == [f"Reel {n:02d}" for n in range(24, 30)]
    assert next_link(fragment) is None  # the last page


def test_the_next_page_keeps_the_sort_filter_and_search(client, db):
    for n in range(30):
        make_video_row(title=f"Match {n:02d}", view_count=n, password_hash="h" if n % 2 else None)
    make_video_row(title="Other", view_count=1000)
    first = client.get("/videos", query_string={"q": "match", "sort": "views", "show": "locked"})
    assert shown_titles(first) == [f"Match {n:02d}" for n in range(29, 0, -2)]
    assert next_link(first) is None  # 15 locked matches fit one page
    for n in range(30, 60):
        make_video_row(title=f"Match {n:02d}", view_count=n, password_hash="h")
    first = client.get("/videos", query_string={"q": "match", "sort": "views", "show": "locked"})
    url = next_link(first)
    assert "q=match" in url and "sort=views" in url and "show=locked" in url
    second = client.get(url)
    walked = shown_titles(first) + shown_titles(second)
    expected = [f"Match {n:02d}" for n in range(59, 29, -1)]
    expected += [f"Match {n:02d}" for n in range(29, 0, -2)]
    assert walked == expected


def test_each_sort_and_filter_from_the_address(client, db):
    make_video_row(title="b open", view_count=5, uploaded_at=NOW)
    make_video_row(
        title="A locked", view_count=9, uploaded_at=NOW - timedelta(hours=1), password_hash="h"
    )
    make_video_row(title="c open", view_count=1, uploaded_at=NOW - timedelta(hours=2))
    cases = {
        "": ["b open", "A locked", "c open"],
        "sort=newest": ["b open", "A locked", "c open"],
        "sort=views": ["A locked", "b open", "c open"],
        "sort=title": ["A locked", "b open", "c open"],
        "show=open": ["b open", "c open"],
        "show=locked": ["A locked"],
        "show=all&sort=title": ["A locked", "b open", "c open"],
    }
    for query, expected in cases.items():
        response = client.get(f"/videos?{query}")
        assert shown_titles(response) == expected, query
    chosen = client.get("/videos?sort=views&show=open").text
    assert (
        '<option value="views" selected>' in chosen and '<option value="open" selected>' in chosen
    )


@pytest.mark.parametrize("query", ["sort=oldest", "show=hidden", "sort=%00", "show=" + "x" * 5000])
def test_unknown_sorts_and_filters_are_a_clear_400(client, db, hx, query):
    response = client.get(f"/videos?{query}")
    assert response.status_code == 400 and is_page(response)
    assert "sorted by newest, most viewed or title" in response.text or "open ones" in response.text
    fragment = client.get(f"/videos?{query}", headers=hx)
    assert fragment.status_code == 400 and not is_page(fragment)


def test_the_search_box_is_live_with_htmx_and_a_plain_form_without(client, db):
    text = client.get("/videos").text
    form = re.search(r'<form class="video-filters"[^>]*>', text).group(0)
    assert 'method="get"' in form and 'action="/videos"' in form
    box = re.search(r'<input id="video-q"[^>]*>', text, re.S).group(0)
    for attribute in (
        'hx-get="/videos"',
        'hx-trigger="input changed delay:250ms, search"',
        'hx-target="#videos"',
        'hx-push-url="true"',
        'hx-indicator="#videos-indicator"',
        'hx-include="closest form"',
        'maxlength="200"',
        'name="q"',
    ):
        assert attribute in box
    assert re.search(r'<button class="button" type="submit">', text)


def test_search_finds_by_title_and_description_both_ways(client, db, hx):
    make_video_row(title="Night shoot", description="Behind the camera")
    make_video_row(title="Interview")
    for headers in ({}, hx):
        response = client.get("/videos?q=camera", headers=headers)
        assert shown_titles(response) == ["Night shoot"]
    nothing = client.get("/videos?q=zzz", headers=hx)
    assert "No videos match “zzz”" in nothing.text and 'href="/videos"' in nothing.text


HOSTILE_TEXT = '<script>alert(1)</script><b hx-get="/supervisor/users" hx-trigger="load">x</b>'


@pytest.mark.parametrize(
    "query",
    [
        "%",
        "_",
        "a\x00b",
        "x" * 10_000,
        "🎬",
        "\u202e\u200f",
        "<script>alert(1)</script>",
        'hx-get="/evil" hx-trigger=load',
    ],
    ids=["percent", "underscore", "nul", "10k", "emoji", "rtl", "script", "hx-get"],
)
def test_hostile_search_input_is_answered_and_inert(client, db, hx, query):
    make_video_row(title="Plain reel")
    for headers in ({}, hx):
        response = client.get("/videos", query_string={"q": query}, headers=headers)
        assert response.status_code == 200
        assert "<script>alert(1)" not in response.text
        assert 'hx-get="/evil"' not in response.text and "\x00" not in response.text
        assert shown_titles(response) in ([], ["Plain reel"])
        if query in ("%", "_"):
            assert shown_titles(response) == []  # not a wildcard
    echoed = client.get("/videos", query_string={"q": "x" * 10_000}).text
    box = re.search(r'<input id="video-q"[^>]*>', echoed).group(0)
    assert f'value="{"x" * 200}"' in box  # the search is cut to 200 characters


def test_titles_and_descriptions_are_inert_everywhere(client, db, hx):
    film = make_movie(HOSTILE_TEXT)
    first = store_video(title=HOSTILE_TEXT, description=HOSTILE_TEXT, movie=film)
    _db.session.execute(sa.update(Video).where(Video.id == first.id).values(uploaded_at=NOW))
    make_video_row(title=HOSTILE_TEXT + " 2", uploaded_at=NOW - timedelta(hours=1))
    _db.session.commit()
    pages = [
        client.get("/videos"),
        client.get("/videos", headers=hx),
        client.get("/videos?q=script"),
        client.get("/"),
        client.get(f"/watch/{first.id}"),  # its description, and the next video as up next
    ]
    for response in pages:
        assert response.status_code == 200
        assert "<script>alert(1)" not in response.text
        assert '<b hx-get="/supervisor/users"' not in response.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    svg = client.get(f"/videos/{first.id}/thumbnail.svg").text
    assert "<script" not in svg and "<b " not in svg and "&lt;script&gt;" in svg


def test_cards_show_thumbnail_duration_date_views_film_and_lock(client, db, media_dir):
    film = make_movie("Casablanca")
    make_video_row(
        title="Timed",
        movie=film,
        duration_seconds=3725.4,
        view_count=1234,
        uploaded_at=NOW,
        password_hash="h",
    )
    make_video_row(title="Untimed", view_count=1, uploaded_at=NOW - timedelta(hours=1))
    with_picture = store_video(
        title="Pictured", thumbnail_key=uuid.uuid4().hex, thumbnail_content_type="image/png"
    )
    _db.session.execute(
        sa.update(Video)
        .where(Video.id == with_picture.id)
        .values(uploaded_at=NOW - timedelta(hours=2))
    )
    _db.session.commit()
    text = client.get("/videos").text
    cards = re.findall(r'<article class="card video-card.*?</article>', text, re.S)
    timed, untimed, pictured = cards
    assert "1:02:05" in timed and "1,234 views" in timed
    assert f'href="/movies/{film.id}">Casablanca</a>' in timed
    assert "lock-badge" in timed and f'datetime="{NOW.isoformat()}"' in timed
    assert NOW.strftime("%-d %b %Y") in timed
    assert "video-duration" not in untimed  # unknown: nothing rather than 0:00
    assert "· 1 view </p>" in " ".join(untimed.split())
    assert "lock-badge" not in untimed and "From " not in untimed
    assert re.search(r'src="/videos/[0-9a-f-]{36}/thumbnail\.svg\?v=[0-9a-f]{10}"', untimed)
    assert f'src="/watch/{with_picture.id}/thumbnail"' in pictured


def test_an_empty_library_says_so(client, db):
    assert "There are no videos yet." in client.get("/videos").text
    login_as(client, make_supervisor())
    assert 'href="/supervisor/videos/new">Upload one' in client.get("/videos").text


@pytest.mark.parametrize("after", ["garbage", "e30", "%00", "🎬", "x" * 500])
def test_a_broken_cursor_is_a_400_with_a_link_to_start_again(client, db, hx, after):
    many(3)
    response = client.get("/videos", query_string={"after": after, "sort": "views", "q": "reel"})
    assert response.status_code == 400 and is_page(response)
    assert "page link is broken" in response.text
    assert 'href="/videos?sort=views&amp;q=reel">Start again from the first page' in response.text
    fragment = client.get("/videos", query_string={"after": after}, headers=hx)
    assert fragment.status_code == 400 and not is_page(fragment)
    assert fragment.headers["HX-Retarget"] == "#notices"
    assert re.search(r'href="/videos"[^>]*>Start again', fragment.text)


def test_a_cursor_of_another_sort_or_list_is_refused(client, db):
    many(2)
    views_cursor = cursors.encode("number", 3, uuid.uuid4())
    assert client.get(f"/videos?after={views_cursor}").status_code == 400
    film_cursor = cursors.encode("datetime", NOW, 12)  # a numeric id, as film lists make
    assert client.get(f"/videos?after={film_cursor}").status_code == 400
    huge = cursors.encode("datetime", NOW, 2**64 + 1)
    assert client.get(f"/videos?after={huge}").status_code == 400
    assert client.get(f"/videos?sort=views&after={views_cursor}").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/watch/18446744073709551616",
        "/watch/99999999999999999999999999999999999999",
        "/videos/18446744073709551616/thumbnail.svg",
        "/videos/not-a-uuid/thumbnail.svg",
        f"/videos/{uuid.uuid4()}/thumbnail.svg",
        f"/watch/{uuid.uuid4()}",
    ],
)
def test_ids_that_are_not_videos_are_404(client, db, url):
    assert client.get(url).status_code == 404


def test_generated_thumbnails_are_cached_for_a_year_and_revalidate(client, db):
    video = make_video_row(title="Thumbnail reel")
    listed = client.get("/videos").text
    url = html.unescape(
        re.search(r'src="(/videos/[^"]+/thumbnail\.svg\?v=[^"]+)"', listed).group(1)
    )
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "public" in response.headers["Cache-Control"]
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert 'aria-label="Thumbnail reel"' in response.text
    again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert client.get(url).data == response.data  # the same video, the same picture
    other = make_video_row(title="Thumbnail reel")
    assert client.get(f"/videos/{other.id}/thumbnail.svg").data != response.data
    assert video.id != other.id


def test_a_hidden_films_videos_are_hidden_here_too(client, db, hx):
    hidden = make_movie("Withdrawn film", hidden=True)
    make_video_row(title="Withdrawn reel", movie=hidden, uploaded_at=NOW)
    make_video_row(title="Open reel", uploaded_at=NOW - timedelta(hours=1))
    secret = make_video_row(title="Secret reel", movie=hidden)
    for url in ("/videos", "/videos?q=withdrawn", "/videos?sort=title", "/"):
        assert "Withdrawn reel" not in client.get(url).text, url
    assert shown_titles(client.get("/videos")) == ["Open reel"]
    assert client.get(f"/videos/{secret.id}/thumbnail.svg").status_code == 404
    login_as(client, make_supervisor())
    text = client.get("/videos").text
    assert "Withdrawn reel" in text and '<span class="badge badge-warn">Hidden</span>' in text
    assert 'class="card video-card is-hidden"' in text
    svg = client.get(f"/videos/{secret.id}/thumbnail.svg")
    assert svg.status_code == 200 and "private" in svg.headers["Cache-Control"]


def test_the_navigation_has_videos_for_everyone(client, db):
    text = client.get("/").text
    nav = re.search(r'<nav class="site-nav".*?</nav>', text, re.S).group(0)
    assert '<a href="/videos">Videos</a>' in nav and "/supervisor/" not in nav
    login_as(client, make_supervisor())
    nav = re.search(r'<nav class="site-nav".*?</nav>', client.get("/").text, re.S).group(0)
    assert '<a href="/videos">Videos</a>' in nav
    # Managing them is one of the supervisor's pages, linked from theirs.
    assert 'href="/supervisor/videos"' in client.get("/supervisor/movies").text


def test_home_has_a_new_videos_row_only_when_there_are_videos(client, db):
    make_movie("A film")
    assert "New videos" not in client.get("/").text
    many(15)
    text = client.get("/").text
    assert "New videos" in text and 'href="/videos">All videos' in text
    row = re.search(r'<section class="strip video-strip".*?</section>', text, re.S).group(0)
    assert re.findall(r'<span class="card-title">([^<]*)</span>', row) == [
        f"Reel {n:02d}" for n in range(12)
    ]


def count_queries(engine):
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    return statements, lambda: sa.event.remove(engine, "before_cursor_execute", before)


def test_home_and_the_list_cost_the_same_queries_for_one_video_or_many(client, db):
    """Films are loaded with the videos: no query per card."""
    make_video_row(title="One", movie=make_movie("One film"))
    counts = {}
    for label in ("one", "many"):
        if label == "many":
            for n in range(11):
                make_video_row(title=f"More {n}", movie=make_movie(f"Film {n}"))
        for url in ("/", "/videos"):
            client.get(url)  # what the site caches for a minute is cached now
            statements, stop = count_queries(db.engine)
            try:
                assert client.get(url).status_code == 200
            finally:
                stop()
            counts[label, url] = len(statements)
    assert counts["one", "/"] == counts["many", "/"]
    assert counts["one", "/videos"] == counts["many", "/videos"]


def test_the_player_links_up_next_and_back_to_the_list(client, db, media_dir):
    first = store_video(title="First reel")
    second = store_video(title="Second reel", duration_seconds=75.0, password=VIDEO_PASSWORD)
    last = store_video(title="Last reel")
    for video, hours in ((first, 0), (second, 1), (last, 2)):
        _db.session.execute(
            sa.update(Video)
            .where(Video.id == video.id)
            .values(uploaded_at=NOW - timedelta(hours=hours))
        )
    _db.session.commit()
    text = client.get(f"/watch/{first.id}").text
    up_next = re.search(r'<a class="up-next glass"[^>]*>.*?</a>', text, re.S).group(0)
    assert f'href="/watch/{second.id}"' in up_next and 'rel="next"' in up_next
    assert "Second reel" in up_next and "1:15" in up_next and "Needs a password" in up_next
    assert 'href="/videos"' in text
    at_the_end = client.get(f"/watch/{last.id}").text
    assert "up-next" not in at_the_end and 'href="/videos"' in at_the_end
