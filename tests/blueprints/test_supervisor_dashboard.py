"""The supervisor's analytics pages over HTTP: the dashboard and its polled block, the view
log and its CSV, per-title statistics; bad windows, hostile text, addresses and proxies."""

from __future__ import annotations

import contextvars
import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from aura.extensions import cache
from aura.models import AuditEvent, PlaybackProgress, utcnow
from aura.services import analytics, dashboard
from aura.services.visitors import Visitor
from tests.conftest import AuraClient, _test_settings, login_as
from tests.factories import (
    BROWSER_UA,
    PASSWORD,
    csrf_from,
    make_movie,
    make_supervisor,
    make_user,
    make_video_row,
)
from tests.fixtures.streaming import open_player

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
HOSTILE_TITLE = '<script>alert("t")</script> & "Co" <b onmouseover=alert(1)> \' hx-get="/x"'


@pytest.fixture
def boss(client, db):
    """``client`` signed in as a supervisor."""
    login_as(client, make_supervisor(display_name="Boss"))
    return client


def stat(html: str, card: str) -> str:
    """The big number of one card of the live block."""
    found = re.search(rf'id="stat-{card}".*?<p class="stat-value">([^<]*)</p>', html, re.S)
    assert found, f"no {card} card"
    return found.group(1)


def svgs(html: str) -> list[ET.Element]:
    """Every inline SVG of the page, parsed as XML (so a stray < or & fails here)."""
    found = re.findall(r"<svg\b.*?</svg>", html, re.S)
    return [ET.fromstring(svg) for svg in found]


def streamed(client, url: str):
    """A streamed response read in the request's own context: (response, chunks)."""

    def run():
        response = FlaskClient.open(client, url)
        chunks = list(response.response) if response.is_streamed else None
        response.close()
        return response, chunks

    return contextvars.Context().run(run)


def view(film, ip="198.51.100.7", agent=FIREFOX, **fields):
    analytics.film_viewed(film.id, Visitor(client_ip=ip, user_agent=agent, **fields))


# -- the dashboard and its live block -------------------------------------------------------------


def test_the_dashboard_is_a_page_and_its_stats_block_a_fragment(boss, hx):
    page = boss.get("/supervisor/")
    assert page.status_code == 200 and "<html" in page.text
    block = re.search(r'<section id="stats"[^>]*>', page.text).group(0)
    assert 'hx-get="/supervisor/"' in block
    assert 'hx-trigger="every 5s, aura:refresh"' in block and "data-live" in block
    assert 'hx-swap="outerHTML"' in block
    fragment = boss.get("/supervisor/", headers=hx)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<section id="stats"')
    assert "Latest views" not in fragment.text  # only the block
    boosted = boss.get("/supervisor/", headers={**hx, "HX-Boosted": "true"})
    assert "<html" in boosted.text


def test_the_block_shows_new_views_on_its_next_poll(boss, db, hx):
    film = make_movie()
    assert stat(boss.get("/supervisor/", headers=hx).text, "views") == "0"
    for n in range(3):
        view(film, ip=f"198.51.100.{n}")
    cache.delete(dashboard.STATS_KEY)  # the next poll, once the shared copy has expired
    polled = boss.get("/supervisor/", headers=hx).text
    assert stat(polled, "views") == "3" and stat(polled, "visitors") == "3"


def test_the_main_navigation_has_the_supervisors_link_for_supervisors_only(client, db):
    assert 'href="/supervisor/"' not in client.get("/").text
    login_as(client, make_user())
    assert 'href="/supervisor/"' not in client.get("/").text
    login_as(client, make_supervisor())
    nav = re.search(r'<nav class="site-nav".*?</nav>', client.get("/").text, re.S).group(0)
    assert '<a href="/supervisor/">Supervisor</a>' in nav
    page = client.get("/supervisor/").text
    portal = re.search(r'<nav class="tabs supervisor-nav".*?</nav>', page, re.S)
    assert "/supervisor/views" in portal.group(0) and "/supervisor/videos" in portal.group(0)


def test_the_dashboard_says_what_each_figure_means(boss, db):
    text = boss.get("/supervisor/").text
    for words in (
        "salt that changes every day",
        "visitor-days",
        "logged and marked, and counted nowhere else",
        "unique visitors per film per day",
        "reported in the last 5 minutes",
        "AURA_IP_MODE=full",
        "AURA_TRUSTED_PROXY_HOPS=0",
        "UTC",
        "TMDB is not configured",
        "No backups yet.",
    ):
        assert words in text, words


def test_watching_now_counts_a_browser_streaming_a_video(boss, app, db, media_dir, video, hx):
    viewer = app.test_client()
    login_as(viewer, make_user())
    open_player(viewer, video)
    assert viewer.get(f"/stream/{video.id}", headers={"Range": "bytes=0-1"}).status_code == 206
    html = boss.get("/supervisor/", headers=hx).text
    assert stat(html, "watching") == "1"
    assert "1 signed in" in re.search(r'id="stat-watching".*?</div>', html, re.S).group(0)


def test_a_sign_in_lockout_shows_once_among_throttled_sign_ins(app, boss, db, hx):
    ann = make_user(email="ann@example.com")
    attacker = app.test_client()
    for number in range(14):
        page = attacker.get("/auth/login", environ_base={"REMOTE_ADDR": f"198.51.100.{number}"})
        attacker.post(
            "/auth/login",
            data={
                "email": ann.email,
                "password": "wrong guess",
                "csrf_token": csrf_from(page.text),
            },
            environ_base={"REMOTE_ADDR": f"198.51.100.{number}"},
            csrf=False,
        )
    assert stat(boss.get("/supervisor/", headers=hx).text, "throttled") == "1"


# -- pictures -------------------------------------------------------------------------------------


def test_the_pictures_are_well_formed_svg_with_a_text_alternative(boss, db):
    film = make_movie(HOSTILE_TITLE)
    video = make_video_row(movie=film, title=HOSTILE_TITLE + " reel")
    view(film)
    analytics.video_played(video.id, film.id, Visitor(client_ip="10.0.0.1", user_agent=FIREFOX))
    db.session.commit()
    for path in (
        "/supervisor/",
        f"/supervisor/stats/movies/{film.id}",
        f"/supervisor/stats/videos/{video.id}",
    ):
        html = boss.get(path).text
        pictures = svgs(html)
        assert pictures, path
        for svg in pictures:
            assert svg.get("role") == "img"
            labels = svg.get("aria-labelledby").split()
            ids = {element.get("id") for element in svg.iter()}
            assert set(labels) <= ids
            assert not [
                el for el in svg.iter() if el.tag.rsplit("}", 1)[-1] in ("script", "foreignObject")
            ]
            assert not [name for el in svg.iter() for name in el.attrib if name.startswith("on")]
        # Each picture's numbers are also in a table.
        assert html.count("<svg") <= html.count("<table")
    dashboard_html = boss.get("/supervisor/").text
    texts = [
        "".join(element.itertext())
        for svg in svgs(dashboard_html)
        for element in svg.iter()
        if element.tag.endswith("text")
    ]
    assert HOSTILE_TITLE[:50] in "".join(texts)  # drawn as text, not markup


def test_no_page_has_inline_styles_or_inline_scripts(boss, db):
    film = make_movie()
    video = make_video_row(movie=film)
    view(film)
    for path in (
        "/supervisor/",
        "/supervisor/views",
        f"/supervisor/stats/movies/{film.id}",
        f"/supervisor/stats/videos/{video.id}",
        "/supervisor/?window=custom&start=2001-01-01&end=2000-01-01",
    ):
        html = boss.get(path).text
        assert not re.search(r"\sstyle\s*=", html), path
        assert all(" src=" in tag for tag in re.findall(r"<script\b[^>]*>", html)), path
        assert not re.search(r"\son[a-z]+\s*=", html), path


# -- hostile text ---------------------------------------------------------------------------------


def test_everything_people_typed_is_inert_on_these_pages(boss, db):
    film = make_movie(HOSTILE_TITLE)
    video = make_video_row(movie=film, title=HOSTILE_TITLE)
    someone = make_user(display_name='<img src=x onerror=alert(1)> "Eve" & co')
    view(
        film,
        agent='<script>alert("ua")</script> Firefox/1 hx-get="/x"',
        referrer='http://<script>alert("ref")</script>/path',
        user_id=someone.id,
    )
    db.session.add(
        PlaybackProgress(
            user_id=someone.id, video_id=video.id, position_seconds=5, duration_seconds=10
        )
    )
    db.session.commit()
    pages = [
        boss.get("/supervisor/").text,
        boss.get("/supervisor/views").text,
        boss.get(f"/supervisor/views?film={film.id}&user={someone.id}").text,
        boss.get(f"/supervisor/stats/movies/{film.id}").text,
        boss.get(f"/supervisor/stats/videos/{video.id}").text,
    ]
    for html in pages:
        main = html.split("<main", 1)[1]
        for raw in ("<script>alert", "<img src=x", "<b onmouseover", 'hx-get="/x"'):
            assert raw not in main
        assert "&lt;script&gt;alert" in main or "&lt;img src=x" in main
    assert "&lt;img src=x onerror=alert(1)&gt; &#34;Eve&#34; &amp; co" in pages[3]


# -- addresses and proxies ------------------------------------------------------------------------


def _log(client) -> str:
    return client.get("/supervisor/views").text


def test_a_direct_visitors_address_is_shown_as_stored(boss, client, db):
    film = make_movie()
    client.get(f"/movies/{film.id}", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert "<code>192.0.2.10</code>" in _log(boss)


def test_a_forged_forwarded_for_is_not_believed_without_trusted_hops(app, boss, db):
    film = make_movie()
    stranger = app.test_client()
    stranger.get(
        f"/movies/{film.id}",
        headers={"X-Forwarded-For": "6.6.6.6"},
        environ_base={"REMOTE_ADDR": "192.0.2.20"},
    )
    log = _log(boss)
    assert "<code>192.0.2.20</code>" in log and "6.6.6.6" not in log
    assert "AURA_TRUSTED_PROXY_HOPS=0" in boss.get("/supervisor/").text


def _app_with(app, **settings):
    made = create_app_with(app, settings)
    made.test_client_class = AuraClient
    return made


def create_app_with(app, settings):
    from aura import create_app

    return create_app({**_test_settings(app.instance_path), **settings})


def test_behind_one_trusted_proxy_the_address_it_saw_is_shown(app, db):
    proxied = _app_with(app, TRUSTED_PROXY_HOPS=1)
    film = make_movie()
    visitor = proxied.test_client()
    visitor.get(
        f"/movies/{film.id}",
        headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    supervisor = proxied.test_client()
    login_as(supervisor, make_supervisor())
    log = _log(supervisor)
    # Only the entry our proxy added is trusted: the client's own first entry is not.
    assert "<code>203.0.113.9</code>" in log
    assert "198.51.100.1" not in log and "<code>127.0.0.1</code>" not in log
    assert "AURA_TRUSTED_PROXY_HOPS=1" in supervisor.get("/supervisor/").text


def test_the_ip_mode_in_force_is_shown_with_what_it_stored(app, db):
    hashed = _app_with(app, IP_MODE="hashed")
    film = make_movie()
    hashed.test_client().get(f"/movies/{film.id}", environ_base={"REMOTE_ADDR": "203.0.113.77"})
    supervisor = hashed.test_client()
    login_as(supervisor, make_supervisor())
    assert "AURA_IP_MODE=hashed" in supervisor.get("/supervisor/").text
    log = _log(supervisor)
    assert "<code>h:" in log and "203.0.113.77" not in log


# -- windows --------------------------------------------------------------------------------------

BAD_WINDOWS = [
    ("window=custom&start=2026-01-10&end=2026-01-01", "The start date is after the end date."),
    ("window=custom&start=2020-01-01&end=2099-01-01", "The end date is in the future"),
    ("window=custom&start=2020-01-01&end=2022-01-01", "Choose at most 366 days at a time."),
    ("window=custom&start=1999-01-01&end=1999-02-01", "before the year 2000"),
    ("window=custom&start=%D9%A2%D9%A0%D9%A2%D9%A6-01-01&end=2026-01-02", "YYYY-MM-DD"),
    ("window=custom&start=2026-13-01&end=2026-01-02", "YYYY-MM-DD"),
    ("window=custom&end=2026-01-02", "Choose a start date"),
    ("window=always", "Choose today, the last 7 days"),
    ("window=custom&start=" + "9" * 5000 + "&end=2026-01-02", "longer than"),
]


@pytest.mark.parametrize(("query", "message"), BAD_WINDOWS)
@pytest.mark.parametrize(
    "where",
    [
        "/supervisor/",
        "/supervisor/views",
        "/supervisor/stats/movies/{id}",
        "/supervisor/views?format=csv",
    ],
)
def test_bad_windows_are_a_400_with_the_reason_on_the_page(boss, db, where, query, message):
    film = make_movie()
    path = where.format(id=film.id)
    response = boss.get(path + ("&" if "?" in path else "?") + query, buffered=True)
    assert response.status_code == 400, response.text
    assert response.mimetype == "text/html"
    assert message in response.text
    assert 'aria-invalid="true"' in response.text and "<form" in response.text


def test_a_custom_window_shows_those_days(boss, db):
    film = make_movie("Counted")
    view(film)
    today = utcnow().date()
    span = f"window=custom&start={today - timedelta(days=3)}&end={today}"
    html = boss.get(f"/supervisor/?{span}").text
    assert f"Most visited: {(today - timedelta(days=3)):%-d %b %Y} to {today:%-d %b %Y}" in html
    assert "Counted" in html and f'value="{today}"' in html
    old = f"window=custom&start={today - timedelta(days=40)}&end={today - timedelta(days=35)}"
    assert "Nobody opened a film in these days." in boss.get(f"/supervisor/?{old}").text
    stats_link = re.search(r'href="(/supervisor/stats/movies/\d+\?[^"]*)"', html).group(1)
    assert "window=custom" in stats_link.replace("&amp;", "&")


# -- the view log and its CSV ---------------------------------------------------------------------


def test_the_view_log_pages_with_htmx_and_plain_links(boss, db, hx):
    film = make_movie()
    for n in range(dashboard.LOG_PAGE + 5):
        view(film, ip=f"10.0.0.{n}")
    first = boss.get("/supervisor/views").text
    assert first.count('<tr class="') + first.count("<tr>") >= dashboard.LOG_PAGE
    older = (
        re.search(r'class="more-row".*?href="([^"]+)"', first, re.S).group(1).replace("&amp;", "&")
    )
    assert "after=" in older
    rows = boss.get(older, headers=hx)
    assert rows.status_code == 200 and "<html" not in rows.text
    assert rows.text.count("<tr") == 5 and "more-row" not in rows.text
    assert "<html" in boss.get(older).text  # without JavaScript, a plain page


def test_a_broken_log_cursor_offers_to_start_again(boss, db):
    response = boss.get("/supervisor/views?after=bm90LWEtY3Vyc29y")
    assert response.status_code == 400 and "Start again from the first page" in response.text


def test_bots_are_shown_marked_and_can_be_left_out(boss, db):
    film = make_movie()
    view(film, agent="Googlebot/2.1 (+http://www.google.com/bot.html)")
    view(film)
    log = boss.get("/supervisor/views").text
    assert log.count('class="badge badge-bot">Bot<') == 1 and "Googlebot" in log
    assert "badge-bot" not in boss.get("/supervisor/views?bots=no").text
    assert "Firefox on Linux" not in boss.get("/supervisor/views?bots=only").text


def test_the_csv_export_streams_the_window_safely(boss, db):
    film = make_movie('=HYPERLINK("http://evil.example","click")')
    user = make_user(display_name="+cmd|' /C calc'!A0")
    view(film, agent="@SUM(1+1)*cmd", referrer="https://ref.example/page?secret=1", user_id=user.id)
    view(film, agent="-2+3")
    response, chunks = streamed(boss, "/supervisor/views?format=csv&window=7d")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    today = utcnow().date()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="aura-views-{today - timedelta(days=6)}-to-{today}.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert len(chunks) > 1  # written as the rows are read, not as one body
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert rows[0] == list(dashboard.CSV_HEADER)
    by_agent = {row[10]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    first = by_agent["'@SUM(1+1)*cmd"]
    assert first["film"] == "'" + film.title
    assert first["user"] == "'" + user.display_name
    assert first["referrer host"] == "ref.example"
    assert first["ip"] == "198.51.100.7" and first["bot"] == "no"
    assert "'-2+3" in by_agent
    for row in rows[1:]:
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "views.exported"))
    assert event.detail == {"window": "7d"}


def test_the_csv_export_keeps_the_filters(boss, db):
    one, two = make_movie("One"), make_movie("Two")
    view(one)
    view(two)
    _response, chunks = streamed(boss, f"/supervisor/views?format=csv&film={two.id}")
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert [row[3] for row in rows[1:]] == ["Two"]
    page = boss.get(f"/supervisor/views?film={two.id}").text
    assert f"format=csv&amp;window=30d&amp;film={two.id}" in page


def test_an_unknown_output_format_is_refused(boss, db):
    response = boss.get("/supervisor/views?format=xlsx")
    assert response.status_code == 400 and "format=csv" in response.text


# -- per-title statistics -------------------------------------------------------------------------


def test_a_films_statistics_page(boss, db):
    film = make_movie("Counted")
    video = make_video_row(movie=film, title="Its reel")
    ann = make_user(display_name="Ann")
    view(film, user_id=ann.id)
    view(film, ip="10.9.9.9", user_id=ann.id)
    view(film, ip="10.9.9.8")
    db.session.add(
        PlaybackProgress(user_id=ann.id, video_id=video.id, watched=True, duration_seconds=60)
    )
    db.session.commit()
    html = boss.get(f"/supervisor/stats/movies/{film.id}").text
    assert "<h1>Counted</h1>" in html and "Last 30 days" in html
    assert re.search(r"Views</h3><p class=\"stat-value\">3<", html)
    assert re.search(r"Visitor-days</h3><p class=\"stat-value\">2<", html)
    assert re.search(r"Signed-in users</h3><p class=\"stat-value\">1<", html)
    assert "100%" in html and ">Ann</a>" in html and "Watched" in html
    assert f"/supervisor/stats/videos/{video.id}" in html


def test_a_videos_statistics_page(boss, db):
    video = make_video_row(title="A reel")
    analytics.video_played(video.id, None, Visitor(client_ip="10.0.0.1", user_agent=FIREFOX))
    db.session.commit()
    html = boss.get(f"/supervisor/stats/videos/{video.id}?window=today").text
    assert "<h1>A reel</h1>" in html and "Today" in html
    assert re.search(r"Plays</h3><p class=\"stat-value\">1<", html)


def test_the_dashboards_top_lists_link_to_the_statistics(boss, db):
    film = make_movie("Linked")
    video = make_video_row(movie=film, title="Linked reel")
    view(film)
    analytics.video_played(video.id, film.id, Visitor(client_ip="10.0.0.1", user_agent=FIREFOX))
    db.session.commit()
    html = boss.get("/supervisor/").text
    assert f'href="/supervisor/stats/movies/{film.id}?window=7d"' in html
    assert f'href="/supervisor/stats/videos/{video.id}?window=7d"' in html


@pytest.mark.parametrize(
    "path",
    [
        "/supervisor/stats/movies/999999",
        "/supervisor/stats/movies/99999999999999999999",
        "/supervisor/stats/movies/١٢",
        "/supervisor/stats/videos/00000000-0000-0000-0000-000000000001",
        "/supervisor/stats/videos/not-a-uuid",
    ],
)
def test_unknown_titles_are_404(boss, db, path):
    assert boss.get(path).status_code == 404


def test_signing_in_through_the_form_reaches_the_dashboard(client, auth, db):
    make_supervisor(email="boss@example.com")
    response = auth.login("boss@example.com", PASSWORD, next="/supervisor/")
    assert response.status_code == 303 and response.headers["Location"] == "/supervisor/"
    assert "<h1>Dashboard</h1>" in client.get("/supervisor/").text


def test_bots_do_not_count_on_the_dashboard_but_are_logged(boss, db, hx):
    film = make_movie()
    view(film, agent=BROWSER_UA.replace("Chrome", "HeadlessChrome"))
    cache.delete(dashboard.STATS_KEY)
    html = boss.get("/supervisor/", headers=hx).text
    assert stat(html, "views") == "0" and stat(html, "bot-requests") == "1"
