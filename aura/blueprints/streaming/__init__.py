from flask import Blueprint

bp = Blueprint("streaming", __name__)

from aura.blueprints.streaming import views  # noqa: E402,F401  (routes register on import)
