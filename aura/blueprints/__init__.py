"""Every part of the site, mounted in one place."""

from __future__ import annotations

from flask import Flask

from aura.blueprints import auth, catalog, library, streaming, supervisor


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(catalog.bp)
    app.register_blueprint(auth.bp, url_prefix="/auth")
    app.register_blueprint(library.bp, url_prefix="/library")
    app.register_blueprint(streaming.bp)
    app.register_blueprint(supervisor.bp, url_prefix="/supervisor")
