"""The supervisor's pages. Only supervisors get in: ``access`` guards every route.

Each module adds its routes to the one blueprint in its ``register``; the list below is every
part of the portal.
"""

from flask import Blueprint

from aura.blueprints.supervisor import access, analytics, audit, backups, moderation, users, videos

bp = Blueprint("supervisor", __name__)

for part in (access, analytics, moderation, users, audit, backups, videos):
    part.register(bp)

__all__ = ["bp"]
