"""Signed checkpoints in the C2SP formats, pure: a `tlog-checkpoint` body (origin, tree size,
root hash) signed as a `signed-note` with Ed25519 (via `cryptography`).

A note is text ending in a newline, a blank line, then signature lines
"— <key name> <base64(key id ‖ signature)>"; the key id is the first 4 bytes of
SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key), and a verifier key is written
"<name>+<hex key id>+<base64(0x01 ‖ public key)>" (the Go sumdb/note encoding).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "Checkpoint",
    "NoteError",
    "checkpoint_text",
    "key_id",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "sign_note",
    "verifier_key",
]

_ED25519: Final = b"\x01"
_DASH: Final = "\u2014 "
MAX_SIGNATURES: Final = 100


class NoteError(ValueError):
    """A note or checkpoint that is malformed, or not signed by the key it is checked against."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _check_name(name: str) -> None:
    if not name or any(ch.isspace() or ch == "+" for ch in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    _check_name(name)
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + _raw(public_key)).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The text a verifier is given: name, key id and public key."""
    raw = base64.b64encode(_ED25519 + _raw(public_key)).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{raw}"


def _parse_verifier(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key is <name>+<hex key id>+<base64 key>")
    name, hex_id, encoded = parts
    try:
        kid = bytes.fromhex(hex_id)
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        raise NoteError("the verifier key's id or key is not hex / base64") from None
    if len(kid) != 4 or len(raw) != 33 or raw[:1] != _ED25519:
        raise NoteError("the verifier key is not an Ed25519 key with a 4-byte id")
    public = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_id(name, public) != kid:
        raise NoteError("the verifier key's id does not match its name and key")
    return name, kid, public


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """`text` (ending in a newline, no blank line) with one signature line."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("a note's text ends in one newline and has no blank line")
    kid = key_id(name, private_key.public_key())
    signature = private_key.sign(text.encode())
    return f"{text}\n{_DASH}{name} {base64.b64encode(kid + signature).decode()}\n"


def open_note(note: str, vkey: str) -> str:
    """The text of `note` if the key `vkey` signed it; raises NoteError otherwise (a missing,
    wrong or malformed signature by that key, or a malformed note)."""
    name, kid, public = _parse_verifier(vkey)
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("not a signed note: no blank line before the signatures")
    text, lines = note[: cut + 1], note[cut + 2 :].splitlines()
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError("a signed note has 1 to 100 signature lines")
    for line in lines:
        if not line.startswith(_DASH):
            raise NoteError(f"malformed signature line {line[:40]!r}")
        signer, _, encoded = line[len(_DASH) :].rpartition(" ")
        if signer != name:
            continue
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError("a signature is not base64") from None
        if blob[:4] != kid:
            continue
        try:
            public.verify(blob[4:], text.encode())
        except InvalidSignature:
            raise NoteError(f"the signature by {name} does not verify") from None
        return text
    raise NoteError(f"the note is not signed by {name}+{kid.hex()}")


def checkpoint_text(checkpoint: Checkpoint) -> str:
    """The body of a C2SP tlog-checkpoint: origin, size, base64 root, extension lines."""
    if not checkpoint.origin or "\n" in checkpoint.origin:
        raise NoteError("a checkpoint's origin is one non-empty line")
    if checkpoint.size < 0 or len(checkpoint.root) != 32:
        raise NoteError("a checkpoint has a size >= 0 and a 32-byte root")
    lines = [
        checkpoint.origin,
        str(checkpoint.size),
        base64.b64encode(checkpoint.root).decode(),
        *checkpoint.extensions,
    ]
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint is origin, size and root hash, one per line")
    origin, size, root, *extensions = lines[:-1]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise NoteError(f"the tree size {size!r} is not a decimal number")
    try:
        digest = base64.b64decode(root, validate=True)
    except (ValueError, binascii.Error):
        raise NoteError("the root hash is not base64") from None
    if len(digest) != 32 or not origin:
        raise NoteError("a checkpoint names its origin and a 32-byte root")
    return Checkpoint(origin=origin, size=int(size), root=digest, extensions=tuple(extensions))


def open_checkpoint(note: str, vkey: str, *, origin: str | None = None) -> Checkpoint:
    """A signed checkpoint, verified by `vkey` (and, if given, of the expected origin)."""
    checkpoint = parse_checkpoint(open_note(note, vkey))
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"the checkpoint is for {checkpoint.origin!r}, not {origin!r}")
    return checkpoint
