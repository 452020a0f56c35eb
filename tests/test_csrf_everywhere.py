"""Every state-changing route of the whole site refuses a request without a CSRF token.

The test walks the app's URL map, so a route added later is covered without being listed here.
"""

import uuid

import pytest
from werkzeug.routing import IntegerConverter, UUIDConverter

from aura.web import IdConverter
from tests.conftest import login_as
from tests.factories import csrf_from, make_supervisor, make_user

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
EXPIRED = "This form has expired"


def state_changing_routes(app):
    """(method, url) for every state-changing rule, with placeholder values for its arguments."""
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            values = {}
            for name, converter in rule._converters.items():
                if isinstance(converter, IntegerConverter | IdConverter):
                    values[name] = 1
                elif isinstance(converter, UUIDConverter):
                    values[name] = uuid.uuid4()
                else:
                    values[name] = "x"
            routes.append((method, adapter.build(rule.endpoint, values, method=method)))
    return routes


def test_the_walk_finds_the_routes_that_matter(app):
    urls = {url for _, url in state_changing_routes(app)}
    for url in (
        "/auth/login",
        "/auth/register",
        "/auth/mfa",
        "/auth/logout",
        "/auth/account",
        "/library/watchlist/1",
        "/library/ratings/1",
        "/library/ratings/1/delete",
    ):
        assert url in urls


def csrf_refused(response) -> bool:
    return response.status_code == 400 and EXPIRED in response.text


def not_allowed(response) -> bool:
    """Refused before the token is even looked at: supervisor pages for anyone else."""
    location = response.headers.get("Location") or response.headers.get("HX-Redirect") or ""
    return response.status_code == 403 or location.startswith("/auth/login")


def test_every_state_changing_route_refuses_a_supervisor_without_the_token(app, client, db):
    # A supervisor may use every route, so each one must stop at the CSRF check.
    login_as(client, make_supervisor())
    accepted = []
    for method, url in state_changing_routes(app):
        response = client.open(url, method=method, data={"x": "1"}, csrf=False)
        if not csrf_refused(response):
            accepted.append((method, url, response.status_code))
    assert accepted == [], "routes that did not refuse a missing CSRF token"


@pytest.mark.parametrize("who", ["anonymous", "viewer"])
def test_every_state_changing_route_refuses_others_without_the_token(app, client, db, who):
    if who == "viewer":
        login_as(client, make_user())
    accepted = []
    for method, url in state_changing_routes(app):
        response = client.open(url, method=method, data={"x": "1"}, csrf=False)
        if not (csrf_refused(response) or not_allowed(response)):
            accepted.append((method, url, response.status_code))
    assert accepted == [], "routes that did not refuse a missing CSRF token"


def test_htmx_requests_without_the_token_show_a_notice(app, client, db, hx):
    login_as(client, make_supervisor())
    for method, url in state_changing_routes(app):
        response = client.open(url, method=method, headers=hx, csrf=False)
        assert response.status_code == 400, url
        assert response.headers["HX-Retarget"] == "#notices", url
        assert EXPIRED in response.text and "<html" not in response.text, url


def test_a_token_from_another_browser_is_refused(app, client, db):
    other = app.test_client()
    token = csrf_from(other.get("/auth/login").text)
    client.get("/auth/login")
    response = client.post(
        "/auth/login",
        data={"email": "a@example.com", "password": "whatever it is", "csrf_token": token},
        csrf=False,
    )
    assert response.status_code == 400 and EXPIRED in response.text
