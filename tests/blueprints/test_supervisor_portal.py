"""The supervisor portal: moderation taking effect at once, users, reset links, the audit log."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from aura import create_app
from aura.models import (
    AccessGrant,
    AuditEvent,
    LoginSession,
    Movie,
    PasswordReset,
    Rating,
    utcnow,
)
from aura.services import demo, resets, users
from aura.services.visitors import Visitor
from tests.conftest import AuraClient, _test_settings, login_as
from tests.factories import PASSWORD, csrf_from, make_movie, make_supervisor, make_user, store_video

SUPERVISOR_PREFIX = "supervisor."


def supervisor_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(SUPERVISOR_PREFIX):
            values = {}
            for name, converter in rule._converters.items():
                values[name] = (
                    "00000000-0000-0000-0000-000000000000"
                    if "UUID" in type(converter).__name__
                    else 1
                )
            url = app.url_map.bind("localhost").build(rule.endpoint, values)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield method, url


@pytest.fixture
def boss(client, db):
    user = make_supervisor(email="boss@example.com", display_name="Boss")
    login_as(client, user)
    return user


def test_every_supervisor_route_is_for_supervisors_only(app, db):
    routes = list(supervisor_routes(app))
    assert {url for _m, url in routes} >= {
        "/supervisor/movies",
        "/supervisor/reviews",
        "/supervisor/users",
        "/supervisor/audit",
        "/supervisor/videos",
    }
    anonymous, viewer = app.test_client(), app.test_client()
    login_as(viewer, make_user())
    for method, url in routes:
        refused = anonymous.open(url, method=method)
        assert refused.status_code in (302, 303) and "/auth/login" in refused.headers["Location"]
        assert viewer.open(url, method=method).status_code == 403, (method, url)


# -- films ----------------------------------------------------------------------------------------


def test_hiding_a_film_takes_it_away_from_viewers_everywhere_at_once(app, client, boss, db):
    film = make_movie("Vanishing Point", popular_score=9, trending_score=1)
    viewer = app.test_client()
    login_as(viewer, make_user())
    assert "Vanishing Point" in viewer.get("/").text
    response = client.post(
        f"/supervisor/movies/{film.id}/visibility", data={"hidden": "1", "reason": "Rights lapsed"}
    )
    assert response.status_code == 303
    for url in ("/", "/rows/popular", "/search?q=vanishing"):
        assert "Vanishing Point" not in viewer.get(url).text, url
    assert viewer.get(f"/movies/{film.id}").status_code == 404
    # The supervisor still sees it, marked, with the reason and who hid it.
    table = client.get("/supervisor/movies?status=hidden").text
    assert "Vanishing Point" in table and "Rights lapsed" in table and "by Boss" in table
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "film.hide"))
    assert event.actor_id == boss.id and event.detail["from"]["hidden"] is False
    assert event.detail["to"] == {"hidden": True, "reason": "Rights lapsed"}
    client.post(f"/supervisor/movies/{film.id}/visibility", data={"hidden": "0"})
    assert viewer.get(f"/movies/{film.id}").status_code == 200


def test_the_htmx_toggle_returns_the_row_in_its_new_state(client, boss, db, hx):
    film = make_movie("Toggle Me")
    row = client.post(f"/supervisor/movies/{film.id}/visibility", data={"hidden": "1"}, headers=hx)
    assert row.status_code == 200 and row.text.lstrip().startswith(f'<tr id="film-{film.id}"')
    assert "Show again" in row.text and 'id="film-' in row.text


def test_bulk_hide_and_show(client, boss, db):
    films = [make_movie(f"Bulk {n}") for n in range(3)]
    ids = [str(film.id) for film in films[:2]]
    response = client.post(
        "/supervisor/movies/visibility", data={"ids": ids, "hidden": "1", "reason": "Spam"}
    )
    assert response.status_code == 303
    hidden = db.session.scalars(sa.select(Movie.title).where(Movie.hidden.is_(True))).all()
    assert sorted(hidden) == ["Bulk 0", "Bulk 1"]
    assert client.post("/supervisor/movies/visibility", data={"hidden": "1"}).status_code == 400
    too_many = {"ids": [str(n) for n in range(1, 300)], "hidden": "1"}
    assert client.post("/supervisor/movies/visibility", data=too_many).status_code == 400


@pytest.mark.parametrize("form", [{"hidden": "maybe"}, {"hidden": "1", "reason": "x" * 600}])
def test_bad_toggles_are_refused_clearly(client, boss, db, form):
    film = make_movie()
    response = client.post(f"/supervisor/movies/{film.id}/visibility", data=form)
    assert response.status_code in (400, 422)
    db.session.refresh(film)
    assert film.hidden is False


def test_a_hidden_film_stays_hidden_through_a_demo_reload(client, boss, db):
    demo.load_demo()
    film = db.session.scalar(sa.select(Movie).where(Movie.title == "Casablanca"))
    client.post(f"/supervisor/movies/{film.id}/visibility", data={"hidden": "1"})
    report = demo.load_demo()
    assert report.loaded == 0
    db.session.refresh(film)
    assert film.hidden is True


def test_a_second_instance_sees_a_hide_at_once(app, client, boss, db, tmp_path):
    """Two processes sharing the database (and Redis when set): nothing caches visibility."""
    film = make_movie("Shared", popular_score=50, trending_score=1)
    other = create_app(
        {
            **_test_settings(app.instance_path),
            **{
                key: app.config[key]
                for key in (
                    "SQLALCHEMY_DATABASE_URI",
                    "CACHE_TYPE",
                    "CACHE_REDIS_URL",
                    "RATELIMIT_STORAGE_URI",
                    "REDIS_URL",
                )
            },
        }
    )
    other.test_client_class = AuraClient
    second = other.test_client()
    assert "Shared" in second.get("/").text  # warms whatever the second instance would cache
    client.post(f"/supervisor/movies/{film.id}/visibility", data={"hidden": "1"})
    assert "Shared" not in second.get("/").text
    assert second.get(f"/movies/{film.id}").status_code == 404


# -- reviews --------------------------------------------------------------------------------------


def test_hiding_a_review_removes_it_from_the_film_and_marks_it_for_its_author(
    app, client, boss, db
):
    film, author = make_movie("Reviewed"), make_user(display_name="Author")
    rating = Rating(user_id=author.id, movie_id=film.id, score=2, review="Terrible, truly")
    db.session.add(rating)
    db.session.commit()
    assert "Terrible, truly" in app.test_client().get(f"/movies/{film.id}").text
    response = client.post(
        f"/supervisor/reviews/{rating.id}/visibility", data={"hidden": "1", "reason": "Abusive"}
    )
    assert response.status_code == 303
    assert "Terrible, truly" not in app.test_client().get(f"/movies/{film.id}").text
    mine = app.test_client()
    login_as(mine, author)
    assert "Review hidden by a supervisor" in mine.get("/library?show=ratings").text
    table = client.get("/supervisor/reviews?status=hidden").text
    assert "Terrible, truly" in table and "Abusive" in table


# -- users ----------------------------------------------------------------------------------------


def test_promote_demote_and_the_last_supervisor_guard(client, boss, db):
    viewer = make_user(display_name="Vera")
    assert (
        client.post(f"/supervisor/users/{viewer.id}/role", data={"role": "supervisor"}).status_code
        == 303
    )
    db.session.refresh(viewer)
    assert viewer.is_supervisor
    assert (
        client.post(f"/supervisor/users/{viewer.id}/role", data={"role": "viewer"}).status_code
        == 303
    )
    # Boss is now the only active supervisor: neither demoted nor switched off.
    for url, data in (
        (f"/supervisor/users/{boss.id}/role", {"role": "viewer"}),
        (f"/supervisor/users/{boss.id}/active", {"active": "0"}),
    ):
        refused = client.post(url, data=data)
        assert refused.status_code == 409 and "last active supervisor" in refused.text
    db.session.refresh(boss)
    assert boss.is_supervisor and boss.active


def test_switching_an_account_off_signs_it_out_everywhere_and_ends_its_grants(
    app, client, boss, db, media_dir
):
    person = make_user()
    elsewhere = app.test_client()
    login_as(elsewhere, person)
    video = store_video()
    assert elsewhere.get(f"/watch/{video.id}").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessGrant)) == 1
    response = client.post(f"/supervisor/users/{person.id}/active", data={"active": "0"})
    assert response.status_code == 303
    assert "Sign in" in elsewhere.get("/").text  # signed out at once
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessGrant)) == 0
    assert elsewhere.get(f"/stream/{video.id}").status_code == 403
    client.post(f"/supervisor/users/{person.id}/active", data={"active": "1"})
    db.session.refresh(person)
    assert person.active


def test_users_can_be_searched_and_filtered(client, boss, db):
    make_user(email="zed@example.com", display_name="Zed")
    make_user(email="amy@example.com", display_name="Amy", active=False)
    assert "zed@example.com" in client.get("/supervisor/users?q=zed").text
    assert "zed@example.com" not in client.get("/supervisor/users?q=amy").text
    off = client.get("/supervisor/users?status=off").text
    assert "amy@example.com" in off and "zed@example.com" not in off
    assert '<option value="off" selected>' in off  # the filter says what it shows
    assert '<option value="all">' in off
    assert client.get("/supervisor/users?role=admin").status_code == 400


# -- reset links ----------------------------------------------------------------------------------


def test_a_reset_link_is_shown_once_and_lets_a_locked_out_viewer_back_in(
    app, client, boss, db, auth
):
    person = make_user(email="lost@example.com")
    page = client.post(f"/supervisor/users/{person.id}/reset-link")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    link = page.text.split('id="reset-link" class="copy-field" type="text" value="')[1].split('"')[
        0
    ]
    token = link.rsplit("/", 1)[1]
    assert token not in str(db.session.scalars(sa.select(PasswordReset.token_hash)).all())
    # The person is signed in somewhere; using the link signs every browser out.
    elsewhere = app.test_client()
    login_as(elsewhere, person)
    browser = app.test_client()
    form = browser.get(f"/auth/reset/{token}")
    assert form.status_code == 200 and form.headers["Referrer-Policy"] == "no-referrer"
    done = browser.post(
        f"/auth/reset/{token}",
        data={
            "new_password": "granite orchard sunrise 9",
            "confirm_password": "granite orchard sunrise 9",
            "csrf_token": csrf_from(form.text),
        },
        csrf=False,
    )
    assert done.status_code == 303 and done.headers["Location"] == "/auth/login"
    assert "Sign in" in elsewhere.get("/").text
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(LoginSession)
            .where(LoginSession.user_id == person.id, LoginSession.revoked_at.is_(None))
        )
        == 0
    )
    # Used once: the same link is gone; the new password works, the old one does not.
    assert browser.get(f"/auth/reset/{token}").status_code == 404
    fresh = app.test_client()
    assert (
        fresh.post("/auth/login", data={"email": person.email, "password": PASSWORD}).status_code
        == 422
    )
    assert (
        fresh.post(
            "/auth/login", data={"email": person.email, "password": "granite orchard sunrise 9"}
        ).status_code
        == 303
    )
    assert "password.reset" in db.session.scalars(sa.select(AuditEvent.action)).all()


def test_expired_forged_and_replaced_links_are_gone(client, db):
    person = make_user()
    expired = resets.issue(person.id, Visitor())
    db.session.execute(sa.update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    replaced = resets.issue(person.id, Visitor())
    current = resets.issue(person.id, Visitor())  # a new link ends the one before
    for token in (expired, replaced, "forged" * 8, "x", "é" * 30):
        response = client.get(f"/auth/reset/{token}")
        assert response.status_code == 404 and "Ask a supervisor for a new one" in response.text
    assert client.get(f"/auth/reset/{current}").status_code == 200


def test_guessing_reset_links_is_throttled(client, db):
    for number in range(20):
        assert client.get(f"/auth/reset/{'guess' * 5}{number}").status_code == 404
    response = client.get(f"/auth/reset/{'guess' * 5}x")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def test_a_reset_link_refuses_a_weak_password(client, db):
    token = resets.issue(make_user().id, Visitor())
    response = client.post(
        f"/auth/reset/{token}",
        data={"new_password": "password123", "confirm_password": "password123"},
    )
    assert response.status_code == 422
    assert client.get(f"/auth/reset/{token}").status_code == 200  # still usable


def test_the_sign_in_page_says_how_to_get_a_reset_link(client, db):
    assert "Ask a supervisor of this site for a reset link" in client.get("/auth/login").text


# -- the audit log --------------------------------------------------------------------------------


def test_the_audit_log_filters_and_pages(client, boss, db):
    person = make_user(email="target@example.com")
    users.set_role(person.id, "supervisor", Visitor(user_id=boss.id))
    users.set_role(person.id, "viewer", Visitor(user_id=boss.id))
    text = client.get("/supervisor/audit?action=user.").text
    assert text.count("<code>user.role</code>") == 2
    assert "viewer → supervisor" in text or "supervisor → viewer" in text
    assert "user.role" in client.get(f"/supervisor/audit?target=user:{person.id}").text
    assert "user.role" in client.get("/supervisor/audit?actor=boss@").text
    assert "user.role" not in client.get("/supervisor/audit?actor=nobody").text
    for bad in ("since=2026-13-01", "since=2026-02-01&until=2026-01-01", "since=١٢٣٤-01-01"):
        assert client.get(f"/supervisor/audit?{bad}").status_code == 422, bad


def test_the_audit_csv_is_streamed_and_injection_safe(client, boss, db):
    make_user(email="=cmd|' /C calc'!A0@example.com".replace("|", "").replace("'", ""))
    db.session.add(AuditEvent(action="film.hide", target="=HYPERLINK(1)", detail={"a": 1}))
    db.session.commit()
    response = client.get("/supervisor/audit?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["at (UTC)", "action", "actor"]
    assert ["'=HYPERLINK(1)"] == [row[3] for row in rows[1:] if row[1] == "film.hide"]
    assert client.get("/supervisor/audit?format=csv&since=2000-01-01").status_code == 422


def test_nothing_can_change_an_audit_entry(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/supervisor/audit"):
            assert (rule.methods or set()) <= {"GET", "HEAD", "OPTIONS"}


def test_what_people_typed_is_inert_on_every_supervisor_page(app, client, boss, db):
    evil = '<script>alert(1)</script><img src=x onerror=alert(2) hx-get="/x">'
    film = make_movie(evil)
    author = make_user(display_name=evil[:80])
    db.session.add(Rating(user_id=author.id, movie_id=film.id, score=5, review=evil))
    db.session.add(AuditEvent(action="login.failure", target=evil, detail={"reason": evil}))
    db.session.commit()
    client.post(f"/supervisor/movies/{film.id}/visibility", data={"hidden": "1", "reason": evil})
    for url in (
        "/supervisor/movies",
        "/supervisor/reviews",
        "/supervisor/users",
        "/supervisor/audit",
    ):
        text = client.get(url).text
        assert "<script>alert(1)" not in text and "<img src=x" not in text, url
        assert "&lt;script&gt;" in text, url


def test_the_audit_csv_is_written_row_by_row(app, boss, db):
    from aura.blueprints.supervisor import audit as audit_views

    with app.test_request_context("/supervisor/audit?format=csv"):
        response = audit_views.list_audit()
        assert response.is_streamed  # a generator: rows are written as they are read
