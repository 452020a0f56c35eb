"""Text contrast measured on the rendered pixels, for backgrounds axe cannot judge (translucent
panels, gradients, the header over scrolled text).

An element is photographed twice: as it is, and with its text (and its children's) made
transparent. The pixels that differ are the text's; each is compared with the same pixel of
the background underneath. Anti-aliased edges blend the two, so the figure is a high
percentile of the per-pixel ratios: the glyph's solid core, as WCAG means it.
"""

from __future__ import annotations

import io

from PIL import Image, ImageChops


def _luminance(pixel: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = pixel[:3]
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


HIDE = """(e) => { const all = [e, ...e.querySelectorAll('*')];
  window.__auraColours = all.map(n => [n, n.style.color, n.style.textShadow]);
  all.forEach(n => { n.style.color = 'transparent'; n.style.textShadow = 'none'; }); }"""
SHOW = """() => { (window.__auraColours || []).forEach(([n, c, t]) => { n.style.color = c;
  n.style.textShadow = t; }); }"""


def text_contrast(locator, percentile: float = 0.9) -> float:
    """The contrast of the element's text against what is behind it, as rendered."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    page = locator.page
    clip = {"x": box["x"], "y": box["y"], "width": max(box["width"], 1), "height": box["height"]}
    shown = Image.open(io.BytesIO(page.screenshot(clip=clip, animations="disabled"))).convert("RGB")
    locator.evaluate(HIDE)
    try:
        bare = Image.open(io.BytesIO(page.screenshot(clip=clip, animations="disabled"))).convert(
            "RGB"
        )
    finally:
        page.evaluate(SHOW)
    difference = ImageChops.difference(shown, bare).convert("L")
    ratios = sorted(
        ratio(shown.getpixel((x, y)), bare.getpixel((x, y)))
        for y in range(shown.height)
        for x in range(shown.width)
        if difference.getpixel((x, y)) > 24
    )
    if not ratios:
        raise AssertionError(f"no text pixels found in {locator}")
    return ratios[min(len(ratios) - 1, int(len(ratios) * percentile))]
