"""Client addresses as ``AURA_IP_MODE`` says to keep them, and only real addresses."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from flask import current_app


def stored_ip(raw: str | None) -> str | None:
    """The client IP as ``AURA_IP_MODE`` says to keep it; None for anything that is not an IP."""
    try:
        address = ipaddress.ip_address((raw or "").strip())
    except ValueError:
        return None
    mode = current_app.config["IP_MODE"]
    if mode == "truncated":
        prefix = 24 if address.version == 4 else 48
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)
    if mode == "hashed":
        key = current_app.config["SECRET_KEY"].encode()
        return "h:" + hmac.new(key, address.packed, hashlib.sha256).hexdigest()[:24]
    return str(address)
