"""A browser named in a few words from its User-Agent header: "Firefox on Linux".

Only for people reading logs (the view log, the dashboard): nothing is decided by it. Which
requests are programs is ``analytics.is_bot``'s rule, not this one's.
"""

from __future__ import annotations

import re

MAX_SCANNED = 512  # what View keeps of a user agent; longer text is not read further

# Order matters: Edge, Opera and Samsung Internet say "Chrome" too, Chrome says "Safari".
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/", re.ASCII)),
    ("Opera", re.compile(r"\b(?:OPR|Opera)/", re.ASCII)),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/", re.ASCII)),
    ("Vivaldi", re.compile(r"\bVivaldi/", re.ASCII)),
    ("Headless Chrome", re.compile(r"\bHeadlessChrome/", re.ASCII)),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/", re.ASCII)),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS|Chromium)/", re.ASCII)),
    ("Safari", re.compile(r"\bVersion/[0-9.]+.*\bSafari/", re.ASCII)),
)
_SYSTEMS = (
    ("iPhone", re.compile(r"\biPhone\b", re.ASCII)),
    ("iPad", re.compile(r"\biPad\b", re.ASCII)),
    ("Android", re.compile(r"\bAndroid\b", re.ASCII)),
    ("ChromeOS", re.compile(r"\bCrOS\b", re.ASCII)),
    ("Windows", re.compile(r"\bWindows\b", re.ASCII)),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b", re.ASCII)),
    ("Linux", re.compile(r"\bLinux\b|\bX11\b", re.ASCII)),
)
# Programs name themselves first ("curl/8.5", "python-requests/2.32") or in a "compatible;"
# comment ("Googlebot/2.1"): the name before the slash is the summary.
_COMPATIBLE = re.compile(r"compatible;\s*([A-Za-z][A-Za-z0-9._ -]{0,40}?)/", re.ASCII)
_PRODUCT = re.compile(r"([A-Za-z][A-Za-z0-9._-]{0,40})/[0-9]", re.ASCII)
_BOT_NAME = re.compile(r"([A-Za-z][A-Za-z0-9._-]{0,40}(?:bot|spider|crawler))\b", re.I | re.ASCII)


def summary(user_agent: str | None) -> str:
    """ "Firefox on Linux", "Safari on iPhone", "Googlebot", "curl", or "Unknown browser"."""
    text = (user_agent or "")[:MAX_SCANNED]
    if not text.strip():
        return "No user agent"
    browser = next((name for name, pattern in _BROWSERS if pattern.search(text)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(text)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser:
        return browser
    program = _program(text)
    if program:
        return program
    return f"A browser on {system}" if system else "Unknown browser"


def _program(text: str) -> str | None:
    """The name a crawler or a script gives itself, if it gives one."""
    for pattern in (_COMPATIBLE, _BOT_NAME):
        found = pattern.search(text)
        if found:
            return found.group(1).strip()
    if not text.startswith("Mozilla/"):
        found = _PRODUCT.match(text)
        if found:
            return found.group(1)
    return None
