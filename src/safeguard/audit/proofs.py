"""Checking an audit proof with the log's public key alone, pure: no database, no settings.

A proof (`safeguard audit prove EVENT_ID`) is JSON holding the event's header, its leaf index,
the RFC 9162 inclusion proof and a signed checkpoint. It verifies when the checkpoint is signed
by the key and the header, hashed as a leaf, leads up the proof to the checkpoint's root.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safeguard.audit.checkpoint import NoteError, open_checkpoint
from safeguard.audit.leaves import leaf_of
from safeguard.audit.merkle import HASH_SIZE, verify_inclusion

PROOF_FORMAT = "safeguard-audit-proof/1"
# A proof is a few kilobytes; refuse to read anything that could not be one.
MAX_PROOF_BYTES = 1024 * 1024


class ProofInvalid(ValueError):
    """The proof is malformed, or does not prove what it claims; the message says which."""


@dataclass(frozen=True)
class CheckedProof:
    event_id: int
    event_type: str
    leaf_index: int
    tree_size: int
    origin: str


def _field(doc: Mapping[str, Any], name: str, kind: type) -> Any:
    value = doc.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProofInvalid(f"the proof's {name!r} is missing or not a {kind.__name__}")
    return value


def check_proof(doc: Any, vkey: str) -> CheckedProof:
    if not isinstance(doc, Mapping):
        raise ProofInvalid("a proof is a JSON object")
    if doc.get("format") != PROOF_FORMAT:
        raise ProofInvalid(f"the proof's format is not {PROOF_FORMAT!r}")
    event = _field(doc, "event", dict)
    index = _field(doc, "leaf_index", int)
    size = _field(doc, "tree_size", int)
    hashes = _field(doc, "inclusion_proof", list)
    note = _field(doc, "checkpoint", str)
    try:
        checkpoint = open_checkpoint(note, vkey)
    except NoteError as exc:
        raise ProofInvalid(f"the checkpoint does not verify with this key: {exc}") from None
    if checkpoint.size != size:
        raise ProofInvalid(
            f"the proof claims a tree of {size}, its checkpoint covers {checkpoint.size}"
        )
    path = []
    for item in hashes:
        try:
            value = base64.b64decode(item, validate=True) if isinstance(item, str) else b""
        except (binascii.Error, ValueError):
            value = b""
        if len(value) != HASH_SIZE:
            raise ProofInvalid("every inclusion proof entry is a base64 SHA-256 hash")
        path.append(value)
    try:
        leaf = leaf_of(event)
    except (TypeError, ValueError):
        raise ProofInvalid("the proof's event is not a JSON object of plain values") from None
    if not verify_inclusion(index, size, leaf, path, checkpoint.root):
        raise ProofInvalid(
            f"the event is not at leaf {index} of the tree the checkpoint signs: the event, the "
            "index or the proof was changed"
        )
    event_id, event_type = event.get("id"), event.get("type")
    return CheckedProof(
        event_id=event_id if isinstance(event_id, int) else -1,
        event_type=str(event_type),
        leaf_index=index,
        tree_size=size,
        origin=checkpoint.origin,
    )


def main(argv: Sequence[str]) -> int:
    """`safeguard audit check-proof FILE --public-key KEY`: 0 when the proof verifies."""
    parser = argparse.ArgumentParser(
        prog="safeguard audit check-proof",
        description="Verify an audit proof with the log's public key only (no database).",
    )
    parser.add_argument("file", help="the proof's JSON file (from `safeguard audit prove`), or -")
    parser.add_argument(
        "--public-key", required=True, help="the log's key, as `safeguard audit public-key` prints"
    )
    args = parser.parse_args(list(argv))
    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        sys.stderr.write(f"safeguard: cannot read {args.file}: {exc.strerror}\n")
        return 2
    try:
        if len(raw) > MAX_PROOF_BYTES:
            raise ProofInvalid(f"the file is over {MAX_PROOF_BYTES} bytes: not a proof")
        try:
            doc = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ProofInvalid("the file is not JSON") from None
        checked = check_proof(doc, args.public_key)
    except ProofInvalid as exc:
        sys.stderr.write(f"proof INVALID: {exc}\n")
        return 1
    sys.stdout.write(
        f"proof valid: event #{checked.event_id} ({checked.event_type}) is leaf "
        f"{checked.leaf_index} of {checked.tree_size} in the log {checked.origin}, whose "
        "checkpoint is signed by this key\n"
    )
    return 0
