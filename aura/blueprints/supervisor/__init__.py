from flask import Blueprint

bp = Blueprint("supervisor", __name__)

from aura.blueprints.supervisor import views  # noqa: E402,F401  (routes register on import)
