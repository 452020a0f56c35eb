"""Generated SVG artwork for films without a poster and videos without a thumbnail:
deterministic colours, escaped text.

A film's poster tells films apart at a glance: the decade chooses the motif (a sunburst for
the 1930s, stripes for the 1970s, …) and the director the colours. The title is small on the
poster: the card prints it beneath at full size.
"""

from __future__ import annotations

import hashlib
import math
import textwrap

from markupsafe import escape

from aura.models import Movie, Video

WIDTH, HEIGHT = 300, 450
THUMB_WIDTH, THUMB_HEIGHT = 320, 180


def _palette(seed: str) -> tuple[str, str, str]:
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    hue = int.from_bytes(digest[:2], "big") % 360
    second = (hue + 35 + digest[1] % 90) % 360
    accent = (hue + 180) % 360
    return (
        f"hsl({hue}, 55%, 32%)",
        f"hsl({second}, 60%, 12%)",
        f"hsl({accent}, 80%, 70%)",
    )


def _title_lines(title: str, width: int = 22, max_lines: int = 3) -> list[str]:
    lines = textwrap.wrap(
        title, width=width, break_long_words=True, max_lines=max_lines, placeholder="…"
    )
    return lines or ["Untitled"]


def poster_version(movie: Movie) -> str:
    """Changes whenever what the poster shows changes, for cache-busting URLs."""
    basis = f"{movie.title}|{movie.year}|{movie.director}|v4"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:10]


# The era's motif: what tells two posters apart before their words are read. A film's decade
# picks the motif, its director the colours (a director's films look like one family).
def _deco(accent: str) -> str:  # before 1950: a sunburst over the horizon
    rays = "".join(
        f'<line x1="150" y1="300" x2="{150 + 260 * math.cos(math.radians(a)):.0f}" '
        f'y2="{300 - 260 * math.sin(math.radians(a)):.0f}"/>'
        for a in range(10, 171, 16)
    )
    return (
        f'<g stroke="{accent}" stroke-opacity="0.28" stroke-width="3">{rays}</g>'
        f'<circle cx="150" cy="300" r="70" fill="none" stroke="{accent}" stroke-opacity="0.5" '
        'stroke-width="4"/>'
    )


def _shapes(accent: str) -> str:  # the 1950s and 60s: cut-paper shapes
    return (
        f'<circle cx="205" cy="150" r="78" fill="{accent}" fill-opacity="0.55"/>'
        '<rect x="40" y="96" width="130" height="22" fill="#f5f1e8" fill-opacity="0.8"/>'
        f'<rect x="40" y="130" width="84" height="22" fill="{accent}" fill-opacity="0.8"/>'
    )


def _stripes(accent: str) -> str:  # the 1970s and 80s: racing stripes
    return "".join(
        f'<rect x="-60" y="{120 + i * 26}" width="480" height="14" fill="{accent}" '
        f'fill-opacity="{0.75 - i * 0.18:.2f}" transform="rotate(-18 150 200)"/>'
        for i in range(4)
    )


def _grid(accent: str) -> str:  # the 1990s and 2000s: a screen's grid
    lines = "".join(f'<line x1="{x}" y1="40" x2="{x}" y2="300"/>' for x in range(40, 281, 40))
    lines += "".join(f'<line x1="20" y1="{y}" x2="280" y2="{y}"/>' for y in range(60, 301, 40))
    return (
        f'<g stroke="{accent}" stroke-opacity="0.22" stroke-width="1.5">{lines}</g>'
        f'<rect x="100" y="100" width="120" height="120" fill="{accent}" fill-opacity="0.35"/>'
    )


def _frame(accent: str) -> str:  # from 2010: one thin frame
    return (
        f'<rect x="34" y="92" width="232" height="220" rx="4" fill="none" stroke="{accent}" '
        'stroke-opacity="0.6" stroke-width="2"/>'
        f'<circle cx="150" cy="202" r="46" fill="{accent}" fill-opacity="0.25"/>'
    )


def motif_of(year: int | None) -> str:
    """The name of a film's motif, by its decade."""
    if year is None or year >= 2010:
        return "frame"
    if year < 1950:
        return "deco"
    if year < 1970:
        return "shapes"
    if year < 1990:
        return "stripes"
    return "grid"


MOTIFS = {"deco": _deco, "shapes": _shapes, "stripes": _stripes, "grid": _grid, "frame": _frame}
TITLE_SIZE = 19  # of 300: under the card's own title, never a second one at full size


def render_svg(movie: Movie) -> str:
    top, bottom, accent = _palette(movie.director or f"{movie.id}:{movie.title}")
    lines = _title_lines(movie.title)
    start_y = 372 - (len(lines) - 1) * TITLE_SIZE * 1.2
    title = "".join(
        f'<tspan x="24" y="{start_y + i * TITLE_SIZE * 1.2:.0f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    decade = f"{movie.year // 10 * 10}s" if movie.year else ""
    director = escape(textwrap.shorten(movie.director or "", width=30, placeholder="…"))
    motif = MOTIFS[motif_of(movie.year)](accent)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(movie.title)}" '
        f'data-motif="{motif_of(movie.year)}">'
        '<defs><linearGradient id="g" x1="0" y1="0" x2="0.4" y2="1">'
        f'<stop offset="0" stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/>'
        "</linearGradient></defs>"
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#g)"/>'
        f"{motif}"
        f'<text x="24" y="70" font-family="system-ui, sans-serif" '
        f'font-size="40" font-weight="800" fill="#f5f1e8" fill-opacity="0.85">{decade}</text>'
        '<text font-family="Georgia, \'Times New Roman\', serif" font-weight="700" '
        f'font-size="{TITLE_SIZE}" fill="#f5f1e8">{title}</text>'
        '<text x="24" y="420" font-family="system-ui, sans-serif" font-size="15" '
        f'fill="#f5f1e8" fill-opacity="0.8">{director}</text>'
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
