"""Clients for the outside world (TMDB, YouTube): timeouts, retries, rate limits, typed results.

Nothing here returns raw JSON: every answer is a frozen dataclass built by a validating
``from_json``, and every failure is an ``aura.errors.UpstreamUnavailable`` subclass.
"""
