"""Signed JSON webhooks: HMAC-SHA256 signatures, one delivery attempt, the retry schedule, and
what a receiver runs to accept each delivery once.

Every delivery carries three headers: `X-Safeguard-Delivery` (one id per logical delivery: a
retry of the same action or page sends the same id again), `X-Safeguard-Timestamp` (Unix
seconds, new on every attempt) and `X-Safeguard-Signature` (`sha256=<hex>` of
`HMAC-SHA256(secret, "<timestamp>.<delivery id>." + body)`). A receiver calls `verify` with one
long-lived `ReplayGuard`: it refuses a bad signature, a timestamp more than five minutes from its
own clock, and answers a delivery id it accepted before as a duplicate, to be acknowledged and
not acted on again. No Django here: receivers on the platform's side can use it as it is.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol

SIGNATURE_HEADER = "X-Safeguard-Signature"
TIMESTAMP_HEADER = "X-Safeguard-Timestamp"
DELIVERY_HEADER = "X-Safeguard-Delivery"
MAX_BACKOFF = timedelta(minutes=10)
# How far a delivery's timestamp may be from the receiver's clock, either way.
TOLERANCE_SECONDS = 300
# Enough for a day's deliveries inside one window many times over; a full guard refuses rather
# than forgets an id it must still remember.
MAX_REMEMBERED = 100_000
_DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def _message(timestamp: int, delivery_id: str, body: bytes) -> bytes:
    return f"{timestamp}.{delivery_id}.".encode("ascii") + body


def sign(secret: bytes, timestamp: int, delivery_id: str, body: bytes) -> str:
    """The signature header's value; the delivery id is signed, so it cannot be swapped."""
    mac = hmac.new(secret, _message(timestamp, delivery_id, body), hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signature_matches(
    secret: bytes, timestamp: int, delivery_id: str, body: bytes, signature: str
) -> bool:
    """Only the HMAC; a receiver wants `verify`, which also refuses old and repeated ones."""
    return hmac.compare_digest(
        sign(secret, timestamp, delivery_id, body).encode("ascii"),
        signature.encode("utf-8", "replace"),
    )


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # new and genuine: act on it
    DUPLICATE = "duplicate"  # genuine, and accepted before: acknowledge, do not act again
    MALFORMED = "malformed"  # a header is missing or unreadable
    BAD_SIGNATURE = "bad_signature"
    STALE = "stale"  # the timestamp is more than the tolerance away from now
    BUSY = "busy"  # the guard is full of ids it must still remember: try again later


# What a receiver answers: duplicates are acknowledged like the first, so that a sender whose
# first answer was lost stops retrying; a full guard asks the sender to come back later.
HTTP_STATUS = {
    Outcome.ACCEPTED: 200,
    Outcome.DUPLICATE: 200,
    Outcome.MALFORMED: 401,
    Outcome.BAD_SIGNATURE: 401,
    Outcome.STALE: 401,
    Outcome.BUSY: 503,
}


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    delivery_id: str = ""

    @property
    def accepted(self) -> bool:
        """Whether to act on the delivery (only the first time it arrives)."""
        return self.outcome is Outcome.ACCEPTED

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.outcome]


class ReplayGuard:
    """Remembers the delivery ids a receiver accepted, for as long as their timestamps stay
    inside the window, so that a captured delivery replayed within the window is recognised.

    Bounded in time (an id is forgotten once a request with its timestamp would be refused as
    stale anyway) and in size (`max_entries`; when full of live ids it refuses new ones instead
    of forgetting one). Thread-safe. One guard per receiving endpoint and secret; a receiver
    running several processes must keep the same rule in a store they share.
    """

    def __init__(
        self,
        *,
        tolerance: int = TOLERANCE_SECONDS,
        max_entries: int = MAX_REMEMBERED,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if tolerance <= 0 or max_entries <= 0:
            raise ValueError("tolerance and max_entries must be positive")
        self.tolerance = tolerance
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        # delivery id -> the last moment a request carrying it could still be in the window
        self._until: dict[str, float] = {}
        self._expiry: list[tuple[float, str]] = []

    def __len__(self) -> int:
        with self._lock:
            self._forget(self._clock())
            return len(self._until)

    def _forget(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] < now:
            until, delivery_id = heapq.heappop(self._expiry)
            if self._until.get(delivery_id) == until:
                del self._until[delivery_id]

    def check(self, *, timestamp: int, delivery_id: str) -> Outcome:
        """The outcome for a delivery whose signature has already been checked."""
        now = self._clock()
        if abs(now - timestamp) > self.tolerance:
            return Outcome.STALE
        until = timestamp + self.tolerance
        with self._lock:
            self._forget(now)
            known = self._until.get(delivery_id)
            if known is not None:
                # A retry signed later keeps the id remembered for as long as it could be
                # replayed; a replay of the same request changes nothing here.
                if until > known:
                    self._until[delivery_id] = until
                    heapq.heappush(self._expiry, (until, delivery_id))
                return Outcome.DUPLICATE
            if len(self._until) >= self.max_entries:
                return Outcome.BUSY
            self._until[delivery_id] = until
            heapq.heappush(self._expiry, (until, delivery_id))
            return Outcome.ACCEPTED

    def release(self, delivery_id: str) -> None:
        """Forget an accepted id the receiver did not act on after all (it refused the content,
        or failed), so that the sender's retry of it is acted on rather than called a
        duplicate. A stale heap entry left behind is skipped when it comes due."""
        with self._lock:
            self._until.pop(delivery_id, None)


class Headers(Protocol):
    """Anything that looks headers up by name: `http.server`'s, Django's `request.headers`."""

    def get(self, name: str, default: Any = None, /) -> Any: ...


def verify(secret: bytes, body: bytes, headers: Headers, *, guard: ReplayGuard) -> Verdict:
    """Check one received delivery: headers present, signature, timestamp window, replay.

    The signature is checked before the guard sees the id, so forged requests cannot fill it.
    An accepted id is remembered at once (two copies arriving together are one delivery); a
    receiver that then does not act on it calls `guard.release(verdict.delivery_id)`.
    """
    delivery_id = str(headers.get(DELIVERY_HEADER) or "")
    raw_timestamp = str(headers.get(TIMESTAMP_HEADER) or "")
    signature = str(headers.get(SIGNATURE_HEADER) or "")
    if not (_DELIVERY_ID.fullmatch(delivery_id) and _TIMESTAMP.fullmatch(raw_timestamp)):
        return Verdict(Outcome.MALFORMED)
    timestamp = int(raw_timestamp)
    if not signature_matches(secret, timestamp, delivery_id, body, signature):
        return Verdict(Outcome.BAD_SIGNATURE, delivery_id)
    return Verdict(guard.check(timestamp=timestamp, delivery_id=delivery_id), delivery_id)


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


def signed_headers(
    secret: bytes, body: bytes, *, delivery_id: str, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of one attempt: the same delivery id on every retry, a fresh timestamp."""
    if not _DELIVERY_ID.fullmatch(delivery_id):
        raise ValueError(f"not a delivery id: {delivery_id!r}")
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(secret, stamp, delivery_id, body),
    }


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float = 5.0) -> Delivery:
    """POST once; any 2xx is delivered, anything else (or no answer) is not."""
    if not url.startswith(("http://", "https://")):
        return Delivery(False, None, f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, data=body, method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = int(response.status)
            reply = response.read(MAX_REPLY)
    except urllib.error.HTTPError as exc:
        # The error is also the open response; close it so its socket does not leak.
        exc.close()
        return Delivery(False, exc.code, f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return Delivery(False, None, str(getattr(exc, "reason", exc)))
    ok = 200 <= status < 300
    return Delivery(ok, status, "" if ok else f"HTTP {status}", reply)


def deliver(
    url: str,
    payload: dict[str, Any],
    secret: bytes,
    *,
    delivery_id: str,
    timeout: float = 5.0,
) -> Delivery:
    """Sign and POST the payload once as (an attempt of) the delivery `delivery_id`."""
    body = encode(payload)
    return post(url, body, signed_headers(secret, body, delivery_id=delivery_id), timeout=timeout)


def backoff(attempt: int, *, base_seconds: float = 2.0) -> timedelta:
    """Wait before retry number `attempt` (1-based): 2 s, 4 s, 8 s … capped at ten minutes."""
    return min(timedelta(seconds=base_seconds * 2 ** (attempt - 1)), MAX_BACKOFF)
