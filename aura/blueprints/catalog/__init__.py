"""Browsing the catalog: home rows, row and genre pages, search, film pages, posters."""

from aura.blueprints.catalog.views import bp

__all__ = ["bp"]
