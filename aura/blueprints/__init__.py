"""Blueprint registry: every part of the site, mounted in one place."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from aura.blueprints.auth import bp as auth_bp
    from aura.blueprints.catalog import bp as catalog_bp
    from aura.blueprints.library import bp as library_bp
    from aura.blueprints.streaming import bp as streaming_bp
    from aura.blueprints.supervisor import bp as supervisor_bp

    app.register_blueprint(catalog_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(library_bp, url_prefix="/library")
    app.register_blueprint(streaming_bp)
    app.register_blueprint(supervisor_bp, url_prefix="/supervisor")

    @app.template_global()
    def has_endpoint(name: str) -> bool:
        """Navigation shows a link only once the part of the site it leads to exists."""
        return name in app.view_functions
