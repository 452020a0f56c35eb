"""Only supervisors get into the supervisor's portal: every route the blueprint has, found in
the URL map (so a route added later is walked too), for every method it answers.

Responses are read whole inside the request (``buffered``): the CSV export is a stream.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import login_as
from tests.factories import make_supervisor, make_user

_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
SAMPLE_VALUES = {"id": "1", "uuid": str(uuid.UUID(int=1)), "int": "1", None: "x", "default": "x"}
# The portal's parts this walk must find, so it can never pass by walking nothing.
EXPECTED = {
    "supervisor.show_dashboard",
    "supervisor.list_views",
    "supervisor.show_movie_stats",
    "supervisor.show_video_stats",
    "supervisor.list_videos",
}


def _path(rule) -> str:
    return _ARGUMENT.sub(lambda found: SAMPLE_VALUES[found.group("converter")], rule.rule)


def supervisor_requests(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every method of every supervisor route."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("supervisor."):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, _path(rule)))
    # The same route with a query asking for the CSV export.
    found.append(("supervisor.list_views", "GET", "/supervisor/views?format=csv"))
    return found


def test_the_walk_finds_every_part_of_the_portal(app):
    endpoints = {endpoint for endpoint, _method, _path in supervisor_requests(app)}
    assert endpoints >= EXPECTED


def test_anonymous_visitors_are_sent_to_sign_in_everywhere(app, client, db):
    for endpoint, method, path in supervisor_requests(app):
        response = client.open(path, method=method, buffered=True)
        assert response.status_code == 303, (endpoint, method, path, response.status_code)
        location = response.headers["Location"]
        assert re.match(r"/auth/login\?next=(/|%2F)supervisor", location), (endpoint, location)


def test_anonymous_htmx_requests_are_sent_to_sign_in_as_a_whole_page(app, client, db, hx):
    for endpoint, method, path in supervisor_requests(app):
        response = client.open(path, method=method, headers=hx, buffered=True)
        assert response.status_code == 204, (endpoint, method, path)
        assert response.headers["HX-Redirect"].startswith("/auth/login?next="), endpoint


def test_viewers_are_refused_everywhere(app, client, db):
    login_as(client, make_user())
    for endpoint, method, path in supervisor_requests(app):
        response = client.open(path, method=method, buffered=True)
        assert response.status_code == 403, (endpoint, method, path, response.status_code)
        assert "Only supervisors" in response.text, endpoint
        assert response.mimetype == "text/html"  # never a CSV of anyone's views


@pytest.mark.parametrize(
    "path",
    ["/supervisor/", "/supervisor/views", "/supervisor/views?format=csv"],
)
def test_supervisors_get_in(client, db, path):
    login_as(client, make_supervisor())
    assert client.get(path, buffered=True).status_code == 200
