"""Reading a JWT's claims without verifying it: only to label accounts and as an expiry fallback.

Nothing is trusted from these claims except for display and scheduling; the provider
remains the judge of a token's validity.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The payload of a compact JWS, or None when ``token`` is not one."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1]:
        return None
    padded = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        payload = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):
        return None
    return payload if isinstance(payload, dict) else None
