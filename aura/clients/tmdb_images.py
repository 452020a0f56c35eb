"""TMDB image URLs: built only from validated file paths, on the configured, allowed host.

``/configuration`` says where images live; it is fetched by the sync and cached for days, and
its ``secure_base_url`` is kept only when it is https on an allowed host (TMDB_IMAGE_HOSTS,
by default image.tmdb.org). Page code only reads the cache and never waits on the network. The
server itself never fetches any URL a response names (Jellyfin's CVE-2021-29490 was SSRF
through image URLs).
"""

from __future__ import annotations

from flask import current_app, g

from aura.clients import fields
from aura.clients.errors import TMDBError
from aura.clients.tmdb import TMDBClient, get_client, is_configured
from aura.clients.tmdb_types import ImageConfig
from aura.extensions import cache

DEFAULT_IMAGE_BASE = "https://image.tmdb.org/t/p/"
DEFAULT_SIZES = frozenset({"w92", "w154", "w185", "w300", "w342", "w500", "w780", "w1280"})
CONFIGURATION_KEY = "tmdb:configuration"


def allowed_image_hosts() -> tuple[str, ...]:
    return tuple(current_app.config.get("TMDB_IMAGE_HOSTS") or ("image.tmdb.org",))


def image_config(fetch: bool = False, client: TMDBClient | None = None) -> ImageConfig | None:
    """TMDB's image configuration from the cache (kept for days); fetched when ``fetch``.

    Page code passes nothing and never waits on the network; the sync fetches it.
    """
    if not is_configured():
        return None
    allowed = allowed_image_hosts()
    cached = cache.get(CONFIGURATION_KEY)
    if cached is not None and not fetch:
        try:
            return ImageConfig.from_json(cached, allowed)
        except TMDBError:
            cache.delete(CONFIGURATION_KEY)  # written under other allowed hosts
    if not fetch:
        return None
    found = (client or get_client()).configuration(allowed)
    cache.set(
        CONFIGURATION_KEY, found.to_json(), timeout=current_app.config["TMDB_CONFIGURATION_TTL"]
    )
    g.pop("_aura_tmdb_images", None)
    return found


def _image_base() -> tuple[str, frozenset[str]]:
    """The image base and its sizes, looked up once per request (a page shows many posters)."""
    memo = g.get("_aura_tmdb_images")
    if memo is not None:
        return memo
    known = image_config()
    if known is not None:
        memo = (known.secure_base_url, known.sizes | {"original"})
    elif "image.tmdb.org" in allowed_image_hosts():
        memo = (DEFAULT_IMAGE_BASE, DEFAULT_SIZES | {"original"})
    else:
        memo = ("", frozenset())
    g._aura_tmdb_images = memo
    return memo


def image_url(path: str | None, size: str = "w342") -> str | None:
    """A browser-ready TMDB image URL, or None for anything that is not a TMDB file path.

    None also when TMDB is not configured (the page then uses Aura's own generated poster).
    """
    if fields.image_path(path) is None or not is_configured():
        return None
    base, sizes = _image_base()
    if not base or size not in sizes:
        return None
    return f"{base}{size}{path}"


def tmdb_image_host() -> str | None:
    """The one host TMDB images come from (for the CSP's img-src), or None without TMDB."""
    if not is_configured():
        return None
    base, _ = _image_base()
    return ImageConfig(secure_base_url=base).host or None
