"""Generated SVG artwork for films without a poster and videos without a thumbnail:
deterministic colours, escaped text."""

from __future__ import annotations

import hashlib
import textwrap

from markupsafe import escape

from aura.models import Movie, Video

WIDTH, HEIGHT = 300, 450
THUMB_WIDTH, THUMB_HEIGHT = 320, 180


def _palette(seed: str) -> tuple[str, str, str]:
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    hue = digest[0] * 360 // 256
    second = (hue + 35 + digest[1] % 90) % 360
    accent = (hue + 180) % 360
    return (
        f"hsl({hue}, 55%, 32%)",
        f"hsl({second}, 60%, 12%)",
        f"hsl({accent}, 80%, 70%)",
    )


def _title_lines(title: str, width: int = 16, max_lines: int = 5) -> list[str]:
    lines = textwrap.wrap(
        title, width=width, break_long_words=True, max_lines=max_lines, placeholder="…"
    )
    return lines or ["Untitled"]


def poster_version(movie: Movie) -> str:
    """Changes whenever what the poster shows changes, for cache-busting URLs."""
    basis = f"{movie.title}|{movie.year}|{movie.director}|v2"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:10]


def render_svg(movie: Movie) -> str:
    top, bottom, accent = _palette(f"{movie.id}:{movie.title}")
    lines = _title_lines(movie.title)
    size = 30 if max(len(line) for line in lines) <= 12 else 24
    start_y = 190 - (len(lines) - 1) * size * 0.6
    title = "".join(
        f'<tspan x="24" y="{start_y + i * size * 1.2:.0f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    year = escape(str(movie.year)) if movie.year else ""
    director = escape(textwrap.shorten(movie.director or "", width=30, placeholder="…"))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(movie.title)}">'
        '<defs><linearGradient id="g" x1="0" y1="0" x2="0.4" y2="1">'
        f'<stop offset="0" stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/>'
        "</linearGradient></defs>"
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#g)"/>'
        f'<circle cx="250" cy="70" r="120" fill="{accent}" fill-opacity="0.10"/>'
        f'<rect x="24" y="60" width="40" height="4" rx="2" fill="{accent}"/>'
        '<text font-family="Georgia, \'Times New Roman\', serif" font-weight="700" '
        f'font-size="{size}" fill="#f5f1e8">{title}</text>'
        '<text x="24" y="392" font-family="system-ui, sans-serif" font-size="15" '
        f'fill="#f5f1e8" fill-opacity="0.75">{director}</text>'
        '<text x="24" y="420" font-family="system-ui, sans-serif" font-size="18" '
        f'font-weight="600" fill="{accent}">{year}</text>'
        "</svg>"
    )


def thumbnail_version(video: Video) -> str:
    """Changes whenever what the generated thumbnail shows changes, for cache-busting URLs."""
    basis = f"{video.id}|{video.title}|v1"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:10]


def render_thumbnail_svg(video: Video) -> str:
    """A 16:9 picture for a video without an uploaded thumbnail: its title over its colours."""
    top, bottom, accent = _palette(f"{video.id}:{video.title}")
    lines = _title_lines(video.title, width=24, max_lines=3)
    size = 22 if max(len(line) for line in lines) <= 18 else 18
    start_y = 124 - (len(lines) - 1) * size * 1.2  # the bottom strip stays clear for badges
    title = "".join(
        f'<tspan x="20" y="{start_y + i * size * 1.2:.0f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {THUMB_WIDTH} {THUMB_HEIGHT}" '
        f'width="{THUMB_WIDTH}" height="{THUMB_HEIGHT}" role="img" '
        f'aria-label="{escape(video.title)}">'
        '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="0.6">'
        f'<stop offset="0" stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/>'
        "</linearGradient></defs>"
        f'<rect width="{THUMB_WIDTH}" height="{THUMB_HEIGHT}" fill="url(#g)"/>'
        f'<circle cx="262" cy="52" r="26" fill="{accent}" fill-opacity="0.85"/>'
        '<path d="M254 39 L254 65 L276 52 Z" fill="#0b0d12"/>'
        '<text font-family="system-ui, sans-serif" font-weight="700" '
        f'font-size="{size}" fill="#f5f1e8">{title}</text>'
        "</svg>"
    )
