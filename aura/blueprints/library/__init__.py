"""The personal library: watchlist toggles, ratings and reviews, and /library."""

from aura.blueprints.library.views import bp

__all__ = ["bp"]
