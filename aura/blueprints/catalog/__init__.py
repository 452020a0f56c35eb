from flask import Blueprint

bp = Blueprint("catalog", __name__)

from aura.blueprints.catalog import views  # noqa: E402,F401  (routes register on import)
