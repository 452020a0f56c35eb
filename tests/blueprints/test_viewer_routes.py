"""The viewer's new routes answer bad input clearly: the diary, captions, the action kept
across signing in, rows reloaded with ``until``, search from the header, ratings' sorts."""

from __future__ import annotations

import io
import os
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from aura.models import Caption, DiaryEntry
from aura.services import captions, library, playback, user_agents
from aura.services.visitors import Visitor
from aura.web import prose
from tests.conftest import login_as
from tests.factories import BROWSER_UA, make_movie, make_supervisor, make_user, store_video
from tests.fixtures.streaming import open_player

VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello.\n"


def entries(db, user_id):
    return db.session.scalars(sa.select(DiaryEntry).where(DiaryEntry.user_id == user_id)).all()


# -- the diary --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        "2999-01-01",
        "1887-12-31",
        "\uff12\uff10\uff12\uff10-01-01",
        "2020-02-30",
        "2020-1-1",
        "",
        "x" * 19,
    ],
)
def test_a_diary_date_must_be_a_real_past_day_in_ascii(client, db, hx, day):
    user = make_user()
    login_as(client, user)
    film = make_movie()
    response = client.post(
        "/library/diary", data={"movie": str(film.id), "watched_on": day}, headers=hx
    )
    assert response.status_code == 422
    assert "not in the future, and not before 1888" in response.text
    assert entries(db, user.id) == []


def test_logging_a_watch_once_a_day_both_ways(client, db, hx):
    user = make_user()
    login_as(client, user)
    film = make_movie("Logged")
    plain = client.post("/library/diary", data={"movie": str(film.id), "watched_on": "2020-02-02"})
    assert plain.status_code == 303
    again = client.post(
        "/library/diary", data={"movie": str(film.id), "watched_on": "2020-02-02"}, headers=hx
    )
    assert again.status_code == 200 and "Already in your diary" in again.text
    assert "<html" not in again.text
    assert [e.watched_on for e in entries(db, user.id)] == [date(2020, 2, 2)]


def test_the_diary_needs_an_account_a_film_and_a_token(client, db):
    film = make_movie()
    data = {"movie": str(film.id), "watched_on": "2020-02-02"}
    assert client.post("/library/diary", data=data).headers["Location"].startswith("/auth/login")
    login_as(client, make_user())
    assert client.post("/library/diary", data=data, csrf=False).status_code == 400
    assert client.post("/library/diary", data={**data, "movie": "9" * 30}).status_code == 400
    assert client.post("/library/diary", data={**data, "movie": "999999"}).status_code == 404
    hidden = make_movie(hidden=True)
    assert client.post("/library/diary", data={**data, "movie": str(hidden.id)}).status_code == 404


def test_nobody_removes_another_persons_diary_entry(client, db):
    owner, other = make_user(), make_user()
    entry, _new = library.log_watch(owner.id, make_movie().id, date(2021, 5, 5))
    login_as(client, other)
    assert client.post(f"/library/diary/{entry.id}/delete").status_code == 404
    login_as(client, owner)
    assert client.post(f"/library/diary/{entry.id}/delete").status_code == 303
    assert entries(db, owner.id) == []


def test_playback_past_ninety_percent_logs_the_film_once_a_day(client, db, media_dir):
    user = make_user()
    film = make_movie("Watched Film")
    video = store_video(movie=film)
    login_as(client, user)
    open_player(client, video)
    for position in ("29", "29.5", "10", "29"):
        response = client.post(
            f"/watch/{video.id}/progress", data={"position": position, "duration": "30"}
        )
        assert response.status_code == 204
    logged = entries(db, user.id)
    assert [(e.movie_id, e.source) for e in logged] == [(film.id, "playback")]
    page = library.diary_page(user.id)
    assert [item.rewatch for month in page.months for item in month.items] == [False]


def test_rewatches_are_every_entry_after_a_films_first(db):
    user, film = make_user(), make_movie()
    for days in (30, 20, 10):
        library.log_watch(user.id, film.id, date.today() - timedelta(days=days))
    items = [item for month in library.diary_page(user.id).months for item in month.items]
    assert [item.rewatch for item in items] == [True, True, False]  # newest first


# -- captions ---------------------------------------------------------------------------------


def test_srt_becomes_webvtt_and_other_files_are_refused(db, media_dir):
    video = store_video()
    srt = (
        b"1\r\n00:00:01,000 --> 00:00:02,500\r\nHi <i>there</i>\r\n\r\n"
        b"2\r\n00:00:03,000 --> 00:00:04,000\r\nBye\r\n"
    )
    caption = captions.add_caption(video.id, srt, "pt-br")
    assert (caption.language, caption.label) == ("pt-BR", "Portuguese")
    with open(captions.caption_file(video.id, caption.id).file.path, encoding="utf-8") as fh:
        assert fh.read() == (
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHi <i>there</i>\n\n"
            "00:00:03.000 --> 00:00:04.000\nBye\n"
        )
    for data, language in (
        (b"<!doctype html><script>alert(1)</script>", "en"),
        (b"WEBVTT\n\nno cues at all\n", "en"),
        (b"\xff\xfe\x00W", "en"),
        (b"", "en"),
        (b"W" * (captions.MAX_CAPTION_BYTES + 1), "en"),
        (VTT, "english"),
        (VTT, "en-"),
    ):
        with pytest.raises(captions.Invalid):
            captions.add_caption(video.id, data, language)
    assert len(os.listdir(os.path.join(media_dir, "captions"))) == 1  # only the good one


def test_captions_are_for_supervisors_and_served_under_the_videos_grant(client, db, media_dir):
    video = store_video()
    other = store_video()
    caption = captions.add_caption(video.id, VTT, "en")
    url = f"/watch/{video.id}/captions/{caption.id}.vtt"
    assert client.get(url).status_code == 403  # no grant yet
    open_player(client, video)
    served = client.get(url)
    assert served.status_code == 200 and served.data == VTT
    assert served.headers["Content-Type"].startswith("text/vtt")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    open_player(client, other)
    assert client.get(f"/watch/{other.id}/captions/{caption.id}.vtt").status_code == 404
    login_as(client, make_user())
    form = {"caption-language": "en"}
    assert client.post(f"/supervisor/videos/{video.id}/captions", data=form).status_code == 403


def test_deleting_a_video_deletes_its_caption_files(client, db, media_dir):
    video = store_video()
    path = captions.caption_file(video.id, captions.add_caption(video.id, VTT, "en").id).file.path
    login_as(client, make_supervisor())
    assert client.post(f"/supervisor/videos/{video.id}/delete").status_code == 303
    assert not os.path.exists(path)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Caption)) == 0


def test_a_refused_caption_upload_says_why_beside_each_field(client, db, media_dir, hx):
    video = store_video()
    login_as(client, make_supervisor())
    response = client.post(
        f"/supervisor/videos/{video.id}/captions",
        data={
            "caption-language": "??",
            "caption-file": (io.BytesIO(b"<html>"), "x.vtt"),
        },
        headers=hx,
    )
    assert response.status_code == 422
    assert "BCP 47" in response.text and "not WebVTT or SRT" in response.text


# -- the action kept across signing in --------------------------------------------------------


def test_a_signed_out_star_is_kept_and_done_once_after_signing_in(client, auth, db):
    user = make_user()
    film = make_movie()
    refused = client.post(f"/library/ratings/{film.id}", data={"score": "8"})
    assert refused.headers["Location"] == f"/auth/login?next=/movies/{film.id}"
    assert auth.login(user.email, next=f"/movies/{film.id}").headers["Location"] == (
        f"/movies/{film.id}"
    )
    page = client.get(f"/movies/{film.id}").text
    assert 'hx-trigger="load"' in page and "Save 8/10" in page
    assert client.get("/library/after-sign-in").status_code == 405  # never a GET
    done = client.post("/library/after-sign-in")
    assert done.status_code == 303 and done.headers["Location"] == f"/movies/{film.id}"
    assert library.my_rating(user.id, film.id).score == 8
    again = client.post("/library/after-sign-in")
    assert again.headers["Location"] == "/"  # once only


@pytest.mark.parametrize("score", ["11", "٣", "", "7.5"])
def test_a_signed_out_press_with_a_bad_score_is_not_kept(client, db, score):
    film = make_movie()
    client.post(f"/library/ratings/{film.id}", data={"score": score})
    with client.session_transaction() as session:
        assert "after_sign_in" not in session


# -- rows, search, ratings --------------------------------------------------------------------


def test_a_row_reloaded_with_until_shows_every_card_up_to_it(client, db, hx):
    for n in range(60):
        make_movie(f"Until Film {n:02d}", popular_score=100 - n)
    first = client.get(
        "/rows/popular?after=x", headers={**hx, "HX-Current-URL": "http://localhost/rows/popular"}
    )
    assert first.status_code == 400
    page = client.get("/rows/popular")
    cursor = page.text.split("after=")[1].split("&")[0]
    second = client.get(
        f"/rows/popular?after={cursor}&page=2",
        headers={**hx, "HX-Current-URL": "http://localhost/rows/popular"},
    )
    until = second.headers["HX-Replace-Url"]
    assert until.startswith("/rows/popular?until=")
    borrowed = client.get(
        f"/rows/popular?after={cursor}", headers={**hx, "HX-Current-URL": "http://localhost/"}
    )
    assert "HX-Replace-Url" not in borrowed.headers  # the home page's rows keep the home address
    reloaded = client.get(until).text
    assert reloaded.count('<article class="card') == 48 and "Until Film 47" in reloaded
    assert "Until Film 48" not in reloaded and "sentinel" in reloaded
    assert client.get("/rows/popular?until=garbage").status_code == 400


def test_search_from_the_header_swaps_the_main_area_and_keeps_one_history_entry(client, db, hx):
    make_movie("Heist")
    from_film = client.get(
        "/search?q=heist",
        headers={**hx, "HX-Target": "main", "HX-Current-URL": "http://localhost/movies/1"},
    )
    assert 'id="results"' in from_film.text and "autofocus" not in from_film.text
    assert from_film.headers["HX-Push-Url"] == "/search?q=heist"
    typing = client.get(
        "/search?q=heis",
        headers={**hx, "HX-Current-URL": "http://localhost/search?q=hei"},
    )
    assert (
        'id="results"' not in typing.text and typing.headers["HX-Replace-Url"] == "/search?q=heis"
    )


def test_ratings_sorts_are_checked(client, db):
    login_as(client, make_user())
    assert client.get("/library?show=ratings&sort=score").status_code == 200
    assert client.get("/library?show=ratings&sort=price").status_code == 400
    assert client.get("/library?show=watching").status_code == 200


# -- words ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "words"),
    [
        (BROWSER_UA, "Chrome on Linux"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
            "Safari on iPhone",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox on Windows",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (None, "No user agent"),
    ],
)
def test_browsers_are_named_in_words(agent, words):
    assert user_agents.summary(agent) == words


def test_descriptions_never_carry_typed_html(app):
    html = prose('<img src=x onerror=alert(1)> https://a.example/"onmouseover=x\n\n**b**')
    assert "<img" not in html and "&lt;img" in html
    assert '<a href="https://a.example/" rel="nofollow noopener noreferrer">' in html
    assert html.count("<p>") == 2 and "<strong>b</strong>" in html


def test_player_visitor_without_a_grant_cannot_report_progress(db, media_dir):
    video = store_video()
    with pytest.raises(Exception, match="Open the video"):
        playback.record(video.id, None, Visitor(user_agent=BROWSER_UA), "10", "30")
