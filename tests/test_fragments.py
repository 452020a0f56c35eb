"""Every fragment renders both ways: as the named block htmx asks for, and as the whole page.

The test finds every ``render(template, block, ...)`` in the code, so a new one must be added to
SCENARIOS below (the test fails until it is). Each scenario makes the request that reaches the
block with ``HX-Request``; while it runs, every block rendered is also rendered as its whole
template with the same context, so a template that only works one way cannot ship. A template
that imports its macros outside the block crashed as a fragment once: that class is covered.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest
from flask import render_template

import aura.htmx
from aura.services import mfa
from tests.conftest import login_as
from tests.factories import (
    PASSWORD,
    make_genre,
    make_movie,
    make_supervisor,
    make_user,
    store_video,
)

ROOT = pathlib.Path(aura.htmx.__file__).parent


def _names_assigned(function: ast.AST, name: str) -> set[str]:
    """String constants a local variable is given anywhere in the function."""
    found = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            found |= {
                const.value
                for const in ast.walk(node.value)
                if isinstance(const, ast.Constant) and isinstance(const.value, str)
            }
    return found


def fragment_renders() -> set[tuple[str, str]]:
    """(template, block) for every ``render(...)`` call with a block, found in the source."""
    pairs = set()
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for call in ast.walk(function):
                if not (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id == "render"
                    and len(call.args) >= 2
                ):
                    continue
                template, block = call.args[0], call.args[1]
                if not (isinstance(template, ast.Constant) and isinstance(template.value, str)):
                    continue
                if isinstance(block, ast.Constant) and isinstance(block.value, str):
                    pairs.add((template.value, block.value))
                elif isinstance(block, ast.Name):
                    pairs |= {(template.value, b) for b in _names_assigned(function, block.id)}
    return pairs


# -- one request per block that reaches it as a fragment ------------------------------------------


def _home(client, hx):
    make_movie("A film")
    return client.get("/", headers=hx)


def _row(client, hx):
    make_movie("A film")
    return client.get("/rows/popular", headers=hx)


def _search(client, hx):
    make_movie("Heist")
    return client.get("/search?q=heist", headers=hx)


def _login_refused(client, hx):
    make_user(email="ann@example.com")
    return client.post(
        "/auth/login", data={"email": "ann@example.com", "password": "nope"}, headers=hx
    )


def _register_refused(client, hx):
    return client.post(
        "/auth/register",
        data={"email": "not an email", "display_name": "", "password": "short"},
        headers=hx,
    )


def _second_factor(client, hx):
    secret = mfa.new_secret()
    make_user(email="tess@example.com", totp_secret=secret)
    client.post("/auth/login", data={"email": "tess@example.com", "password": PASSWORD})
    return client.post("/auth/mfa", data={"code": "000000"}, headers=hx)


def _toggle(client, hx):
    login_as(client, make_user())
    return client.post(f"/library/watchlist/{make_movie().id}", headers=hx)


def _rating(client, hx):
    login_as(client, make_user())
    return client.post(f"/library/ratings/{make_movie().id}", data={"score": "7"}, headers=hx)


def _reviews(client, hx):
    return client.get(f"/library/reviews/{make_movie().id}", headers=hx)


def _watchlist(client, hx):
    login_as(client, make_user())
    return client.get("/library", headers=hx)


def _ratings(client, hx):
    login_as(client, make_user())
    return client.get("/library?show=ratings", headers=hx)


def _unlock(client, hx):
    video = store_video(title="Locked", password="open sesame 7")
    return client.post(f"/watch/{video.id}/unlock", data={"password": "wrong"}, headers=hx)


def _video_library(client, hx):
    store_video(title="Heist reel", description="A look behind the vault door")
    return client.get("/videos?q=vault", headers=hx)


def _video_form(client, hx):
    login_as(client, make_supervisor())
    return client.post("/supervisor/videos/new", data={"title": ""}, headers=hx)


def _film_options(client, hx):
    login_as(client, make_supervisor())
    make_movie("Heist")
    return client.get("/supervisor/videos/films?q=heist", headers=hx)


def _supervisor(client):
    login_as(client, make_supervisor())


def _films_table(client, hx):
    _supervisor(client)
    make_movie("Heist")
    return client.get("/supervisor/movies?q=heist", headers=hx)


def _film_row(client, hx):
    _supervisor(client)
    film = make_movie("Heist")
    return client.post(f"/supervisor/movies/{film.id}/visibility", data={"hidden": "1"}, headers=hx)


def _reviewed(client):
    from aura.extensions import db
    from aura.models import Rating

    film, author = make_movie("Heist"), make_user()
    rating = Rating(user_id=author.id, movie_id=film.id, score=7, review="Fine")
    db.session.add(rating)
    db.session.commit()
    return rating


def _reviews_table(client, hx):
    _supervisor(client)
    _reviewed(client)
    return client.get("/supervisor/reviews", headers=hx)


def _review_row(client, hx):
    _supervisor(client)
    rating = _reviewed(client)
    return client.post(
        f"/supervisor/reviews/{rating.id}/visibility", data={"hidden": "1"}, headers=hx
    )


def _users_table(client, hx):
    _supervisor(client)
    return client.get("/supervisor/users", headers=hx)


def _user_row(client, hx):
    _supervisor(client)
    other = make_user()
    return client.post(
        f"/supervisor/users/{other.id}/role", data={"role": "supervisor"}, headers=hx
    )


def _audit_table(client, hx):
    _supervisor(client)
    return client.get("/supervisor/audit", headers=hx)


def _reset_form(client, hx):
    from aura.services import resets
    from aura.services.visitors import Visitor

    token = resets.issue(make_user().id, Visitor())
    return client.post(f"/auth/reset/{token}", data={"new_password": "short"}, headers=hx)


def _backup_status(client, hx):
    _supervisor(client)
    return client.get("/supervisor/backups", headers=hx)


def _search_page(client, hx):
    make_movie("Heist")
    return client.get("/search?q=heist", headers={**hx, "HX-Target": "main"})


def _diary_log(client, hx):
    login_as(client, make_user())
    film = make_movie()
    return client.post(
        "/library/diary", data={"movie": str(film.id), "watched_on": "2020-02-02"}, headers=hx
    )


def _diary_items(client, hx):
    login_as(client, make_user())
    return client.get("/library?show=diary", headers=hx)


def _rating_item(client, hx):
    login_as(client, make_user())
    film = make_movie()
    return client.post(
        f"/library/ratings/{film.id}", data={"score": "7", "place": "library"}, headers=hx
    )


def _captions(client, hx):
    login_as(client, make_supervisor())
    video = store_video(title="Captioned")
    return client.post(
        f"/supervisor/videos/{video.id}/captions",
        data={"caption-language": "not a language"},
        headers=hx,
    )


def _dashboard_stats(client, hx):
    login_as(client, make_supervisor())
    return client.get("/supervisor/", headers=hx)


def _view_rows(client, hx):
    login_as(client, make_supervisor())
    client.get(f"/movies/{make_movie().id}")
    return client.get("/supervisor/views", headers=hx)


def _notice(client, hx):
    return client.get("/movies/999999", headers=hx)


SCENARIOS = {
    ("catalog/home_show.html", "rows"): _home,
    ("catalog/movies_browse.html", "cards"): _row,
    ("catalog/movies_search.html", "results"): _search,
    ("auth/login.html", "login_form"): _login_refused,
    ("auth/register.html", "register_form"): _register_refused,
    ("auth/mfa.html", "mfa_form"): _second_factor,
    ("library/watchlist_toggle.html", "toggle"): _toggle,
    ("library/rating_edit.html", "rating"): _rating,
    ("library/reviews_list.html", "review_items"): _reviews,
    ("library/library_show.html", "watchlist_cards"): _watchlist,
    ("library/library_show.html", "rating_items"): _ratings,
    ("streaming/video_unlock.html", "unlock"): _unlock,
    ("streaming/videos_list.html", "videos"): _video_library,
    ("supervisor/video_form.html", "video_form"): _video_form,
    ("supervisor/films_find.html", "film_options"): _film_options,
    ("catalog/movies_search.html", "search_page"): _search_page,
    ("library/diary_log.html", "diary_log"): _diary_log,
    ("library/library_show.html", "diary_items"): _diary_items,
    ("library/rating_item.html", "rating_item"): _rating_item,
    ("supervisor/video_form.html", "captions"): _captions,
    ("supervisor/dashboard_show.html", "stats"): _dashboard_stats,
    ("supervisor/views_list.html", "view_rows"): _view_rows,
    ("errors/error.html", "notice"): _notice,
    ("supervisor/films_list.html", "film_rows"): _films_table,
    ("supervisor/film_row.html", "film_row"): _film_row,
    ("supervisor/reviews_list.html", "review_rows"): _reviews_table,
    ("supervisor/review_row.html", "review_row"): _review_row,
    ("supervisor/users_list.html", "user_rows"): _users_table,
    ("supervisor/user_row.html", "user_row"): _user_row,
    ("supervisor/audit_list.html", "audit_rows"): _audit_table,
    ("auth/reset_password.html", "reset_form"): _reset_form,
    ("supervisor/backups_list.html", "backup_status"): _backup_status,
}


def test_every_fragment_render_in_the_code_has_a_scenario():
    found = fragment_renders()
    assert found, "the source scan found no render(template, block) call"
    missing = found - set(SCENARIOS)
    assert not missing, f"add a scenario to SCENARIOS for {sorted(missing)}"
    stale = set(SCENARIOS) - found
    assert not stale, f"these scenarios no longer match a render call: {sorted(stale)}"


@pytest.fixture
def both_ways(monkeypatch):
    """Every block rendered during the request is rendered as its whole template too."""
    rendered: list[tuple[str, str, str]] = []
    original = aura.htmx.render_block

    def render_block(template, block, **context):
        fragment = original(template, block, **context)
        page = render_template(template, **context)
        rendered.append((template, block, page))
        return fragment

    monkeypatch.setattr(aura.htmx, "render_block", render_block)
    return rendered


@pytest.mark.parametrize("pair", sorted(SCENARIOS), ids="{0[0]}#{0[1]}".format)
def test_each_block_renders_as_a_fragment_and_as_a_page(client, db, media_dir, hx, both_ways, pair):
    make_genre("Drama")
    response = SCENARIOS[pair](client, hx)
    assert response.status_code < 500, response.text
    assert "HX-Request" in response.headers.get("Vary", "")
    assert "<html" not in response.text, "an htmx request got the whole page"
    rendered = {(template, block): page for template, block, page in both_ways}
    assert pair in rendered, f"the request rendered {sorted(rendered)}, not {pair}"
    page = rendered[pair]
    extends_base = re.search(
        r'{%\s*extends\s+"base.html"', (ROOT / "templates" / pair[0]).read_text()
    )
    if extends_base:
        assert "<html" in page and "</html>" in page
    assert page.strip()


def test_pages_and_fragments_differ_without_htmx(client, db):
    make_movie("A film")
    assert "<html" in client.get("/rows/popular").text
    # A boosted navigation and a history restore need the whole page.
    for header in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        assert "<html" in client.get("/rows/popular", headers={"HX-Request": "true", **header}).text
