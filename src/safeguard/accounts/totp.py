"""TOTP (RFC 6238) codes, secrets in base32, recovery-code formatting and the enrolment QR code.

No Django here: the demo printout and the tests compute codes with this module, independently
of the django-otp implementation that checks them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

import segno

DIGITS = 6
STEP_SECONDS = 30


def secret_b32(key: bytes) -> str:
    """The secret as an authenticator app or `oathtool --totp -b` expects it."""
    return base64.b32encode(key).decode("ascii").rstrip("=")


def secret_from_b32(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def totp_now(secret: str, *, at: float | None = None) -> str:
    """The six-digit code for a base32 secret at `at` (Unix seconds; now when omitted)."""
    counter = int((time.time() if at is None else at) // STEP_SECONDS)
    digest = hmac.new(secret_from_b32(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def normalise_code(code: str) -> str:
    """What a person typed, without the spaces and dashes people add, in lower case."""
    return "".join(code.split()).replace("-", "").lower()


def looks_like_totp(code: str) -> bool:
    """A TOTP code is six digits; anything else is tried as a recovery code."""
    return len(code) == DIGITS and code.isdigit()


def format_recovery_code(code: str) -> str:
    """Recovery codes are shown in two groups of four, which is easier to copy by hand."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


def qr_data_uri(uri: str) -> str:
    """The `otpauth://` URI as an SVG QR code in a data URI, made here without any network."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))
