"""Watching videos: the player, the password form, the range streamer, resume positions."""

from aura.blueprints.streaming.views import bp

__all__ = ["bp"]
