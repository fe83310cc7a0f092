"""Signed JSON webhooks: HMAC-SHA256 signatures, one delivery attempt, and the retry schedule.

The receiver recomputes `HMAC-SHA256(secret, "<timestamp>." + body)` and compares it with the
`X-Safeguard-Signature` header (`sha256=<hex>`); the timestamp header lets it refuse replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

SIGNATURE_HEADER = "X-Safeguard-Signature"
TIMESTAMP_HEADER = "X-Safeguard-Timestamp"
MAX_BACKOFF = timedelta(minutes=10)


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret, f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: bytes, timestamp: int, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Delivery:
    ok: bool
    status: int | None
    error: str
    # The start of the receiver's answer, for protocols that reply with a status in JSON.
    body: bytes = b""


MAX_REPLY = 64 * 1024


def deliver(url: str, payload: dict[str, Any], secret: bytes, *, timeout: float = 5.0) -> Delivery:
    """POST the payload once; any 2xx is delivered, anything else (or no answer) is not."""
    if not url.startswith(("http://", "https://")):
        return Delivery(False, None, f"not an http(s) URL: {url!r}")
    body = encode(payload)
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            TIMESTAMP_HEADER: str(timestamp),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = int(response.status)
            reply = response.read(MAX_REPLY)
    except urllib.error.HTTPError as exc:
        return Delivery(False, exc.code, f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return Delivery(False, None, str(getattr(exc, "reason", exc)))
    ok = 200 <= status < 300
    return Delivery(ok, status, "" if ok else f"HTTP {status}", reply)


def backoff(attempt: int, *, base_seconds: float = 2.0) -> timedelta:
    """Wait before retry number `attempt` (1-based): 2 s, 4 s, 8 s … capped at ten minutes."""
    return min(timedelta(seconds=base_seconds * 2 ** (attempt - 1)), MAX_BACKOFF)
