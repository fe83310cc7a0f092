"""C2SP signed notes and checkpoints: the Go sumdb/note example byte for byte, a checkpoint that
round-trips, and every change to a signed checkpoint refused."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.audit.checkpoint import (
    Checkpoint,
    NoteError,
    checkpoint_text,
    open_checkpoint,
    open_note,
    sign_note,
    verifier_key,
)

# The example of golang.org/x/mod/sumdb/note, which C2SP signed-note describes.
GO_PRIVATE = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNED = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2p"
    "ZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def go_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(GO_PRIVATE)[1:])


def test_the_reference_note_signs_and_opens_byte_for_byte() -> None:
    key = go_key()
    assert verifier_key("PeterNeumann", key.public_key()) == GO_VKEY
    assert sign_note(GO_TEXT, "PeterNeumann", key) == GO_SIGNED
    assert open_note(GO_SIGNED, GO_VKEY) == GO_TEXT


def test_a_checkpoint_round_trips_and_names_its_origin() -> None:
    key = Ed25519PrivateKey.generate()
    vkey = verifier_key("safeguard.example/audit", key.public_key())
    point = Checkpoint(origin="safeguard.example/audit", size=1234, root=bytes(range(32)))
    note = sign_note(checkpoint_text(point), "safeguard.example/audit", key)
    assert open_checkpoint(note, vkey, origin="safeguard.example/audit") == point
    with pytest.raises(NoteError, match="not 'other'"):
        open_checkpoint(note, vkey, origin="other")


def test_another_key_or_a_forged_verifier_is_refused() -> None:
    other = verifier_key("PeterNeumann", Ed25519PrivateKey.generate().public_key())
    with pytest.raises(NoteError, match="not signed by"):
        open_note(GO_SIGNED, other)
    name, _, key = GO_VKEY.split("+", 2)
    with pytest.raises(NoteError, match="does not match"):
        open_note(GO_SIGNED, f"{name}+00000000+{key}")


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=0, max_value=len(GO_SIGNED.encode()) - 1), st.integers(1, 255))
def test_any_changed_byte_of_a_signed_note_is_refused(position: int, flip: int) -> None:
    raw = bytearray(GO_SIGNED.encode())
    raw[position] ^= flip
    try:
        changed = raw.decode()
    except UnicodeDecodeError:
        return  # not text: refused before any signature is read
    if changed == GO_SIGNED:
        return
    with pytest.raises(NoteError):
        open_note(changed, GO_VKEY)
