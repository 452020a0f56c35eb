from flask import Blueprint

bp = Blueprint("supervisor", __name__)

# Routes register on import; `access` guards every page of the blueprint.
from aura.blueprints.supervisor import access, videos, views  # noqa: E402,F401
