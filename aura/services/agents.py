"""Browsers and systems named in words from a User-Agent header ("Chrome on Linux")."""

from __future__ import annotations

import re

# Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari", and so on.
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\b(?:OPR|Opera)/")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Vivaldi", re.compile(r"\bVivaldi/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS|Chromium)/")),
    ("Safari", re.compile(r"\bVersion/[0-9.]+.*\bSafari/")),
    ("curl", re.compile(r"^curl/")),
)
_SYSTEMS = (
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b|\bX11\b")),
)


def describe(user_agent: str | None) -> str:
    """ "Firefox on Windows", "Safari on iPhone", or "An unknown browser"."""
    text = user_agent or ""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(text)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(text)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"A browser on {system}"
    return "An unknown browser"
