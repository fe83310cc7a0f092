"""Second-factor secrets at rest: TOTP keys sealed with AES-256-GCM, recovery codes kept as HMACs.

Both keys are derived with HKDF-SHA256 from the vault key, each under its own label, so neither is
the key that encrypts evidence and neither can be computed from the other. No Django here: the
caller passes the vault key (the models and the data migration pass `settings.SAFEGUARD_VAULT_KEY`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOTP_KEY_LABEL = b"safeguard/accounts/totp-key/v1"
RECOVERY_CODE_LABEL = b"safeguard/accounts/recovery-code/v1"
NONCE_BYTES = 12
TAG_BYTES = 16
# django-otp keeps the key in an 80-character column: nonce, sealed key and tag in unpadded
# base64 fill it exactly at 32 bytes of key (256 bits; RFC 6238 suggests 160).
MAX_TOTP_KEY_BYTES = 32
SEALED_MAX_CHARS = 80


class Unreadable(Exception):
    """A sealed TOTP key failed to open: it was altered, moved to another account, or the vault
    key is not the one it was sealed with."""


def derive_key(vault_key: bytes, label: bytes) -> bytes:
    """A 256-bit key for one purpose, derived from the vault key (RFC 5869, no salt)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(vault_key)


def _totp_aad(user_id: int) -> bytes:
    # The account is associated data: a sealed key copied onto another account's device row
    # does not open there, so nobody who can write the table can give themselves a victim's key.
    return b"totp-key\x00user:" + str(user_id).encode("ascii")


def seal_totp_key(vault_key: bytes, *, key: bytes, user_id: int) -> str:
    """Seal `key` for the device of `user_id`; the result fits django-otp's `key` column."""
    if not 0 < len(key) <= MAX_TOTP_KEY_BYTES:
        raise ValueError(f"a TOTP key must be 1 to {MAX_TOTP_KEY_BYTES} bytes to be sealed")
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(derive_key(vault_key, TOTP_KEY_LABEL)).encrypt(nonce, key, _totp_aad(user_id))
    text = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
    assert len(text) <= SEALED_MAX_CHARS  # noqa: S101 - guaranteed by the length check above
    return text


def open_totp_key(vault_key: bytes, *, sealed: str, user_id: int) -> bytes:
    """The key that `seal_totp_key` sealed for `user_id`, or `Unreadable`."""
    try:
        raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    except (binascii.Error, ValueError):
        raise Unreadable("the stored TOTP key is not a sealed key") from None
    if len(raw) <= NONCE_BYTES + TAG_BYTES:
        raise Unreadable("the stored TOTP key is not a sealed key")
    try:
        return AESGCM(derive_key(vault_key, TOTP_KEY_LABEL)).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _totp_aad(user_id)
        )
    except InvalidTag:
        raise Unreadable(
            "the stored TOTP key does not open with this vault key for this account"
        ) from None


def recovery_code_digest(vault_key: bytes, *, code: str, device_id: int) -> str:
    """HMAC-SHA256 of a normalised recovery code, bound to its device (hex).

    A keyed hash rather than a slow one: codes carry 40 bits, which no unkeyed hash protects
    from a search, while without the vault key the digest says nothing; and whoever holds the
    vault key can already open the TOTP keys, so a slower hash here would buy nothing.
    """
    message = f"{device_id}:{code}".encode()
    return hmac.new(derive_key(vault_key, RECOVERY_CODE_LABEL), message, hashlib.sha256).hexdigest()
