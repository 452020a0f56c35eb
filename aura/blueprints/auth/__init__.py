"""Accounts: sign in and out, register, two-factor sign-in, the account page."""

from aura.blueprints.auth.views import bp

__all__ = ["bp"]
