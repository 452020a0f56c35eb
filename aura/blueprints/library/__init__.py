from flask import Blueprint

bp = Blueprint("library", __name__)

from aura.blueprints.library import views  # noqa: E402,F401  (routes register on import)
