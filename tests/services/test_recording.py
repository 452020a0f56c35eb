"""``AURA_RECORD_VIEWS=off``: film pages are served without recording a view."""

import pytest
import sqlalchemy as sa

from aura.models import TrafficHour, View
from config import load_config
from tests.factories import make_movie


def test_with_recording_off_a_film_page_records_nothing(app, client, db, monkeypatch):
    film = make_movie("Quiet")
    monkeypatch.setitem(app.config, "RECORD_VIEWS", False)
    assert client.get(f"/movies/{film.id}").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(View)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrafficHour)) == 0
    monkeypatch.setitem(app.config, "RECORD_VIEWS", True)
    client.get(f"/movies/{film.id}")
    assert db.session.scalar(sa.select(sa.func.sum(TrafficHour.views))) == 1


def test_the_recording_setting_reads_on_or_off(monkeypatch):
    monkeypatch.setenv("AURA_RECORD_VIEWS", "off")
    assert load_config("testing").RECORD_VIEWS is False
    monkeypatch.setenv("AURA_RECORD_VIEWS", "ON")
    assert load_config("testing").RECORD_VIEWS is True
    monkeypatch.setenv("AURA_RECORD_VIEWS", "sometimes")
    with pytest.raises(SystemExit, match="AURA_RECORD_VIEWS must be one of"):
        load_config("testing")
