"""Disclosure packages ("safeguard-disclosure/1"), pure: building the zip, verifying it with the
audit log's public key alone (`safeguard custody verify`), and encrypting it for transit.

docs/disclosure-packages.md describes the format and what a valid package proves.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import io
import json
import os
import re
import secrets
import sys
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safeguard.audit.checkpoint import NoteError, open_checkpoint
from safeguard.audit.leaves import canonical_json, payload_sha256
from safeguard.audit.proofs import PROOF_FORMAT, ProofInvalid, check_proof
from safeguard.core.pdf import PdfDocument
from safeguard.core.textfile import Unreadable, read_text

__all__ = [
    "FORMAT",
    "CustodyEntry",
    "CustodyError",
    "DecryptionError",
    "PackageFile",
    "Prepared",
    "Problem",
    "Report",
    "assemble_package",
    "decrypt_package",
    "encrypt_package",
    "is_encrypted",
    "main",
    "prepare_manifest",
    "summary_pdf",
    "verify_package",
]

FORMAT: Final = "safeguard-disclosure/1"
RECORD_FORMAT: Final = "safeguard-custody-record/1"
MANIFEST: Final = "manifest.json"
SUMMARY: Final = "summary.pdf"
CHECKPOINT: Final = "checkpoint.txt"
ANCHOR_PROOF: Final = "anchor/proof.json"
ANCHOR_PAYLOAD: Final = "anchor/payload.json"
FILES_DIR: Final = "files/"

# Bounds a hostile zip cannot talk the verifier past: it reads no member whose declared size is
# over these, and never more than a member declares.
MAX_PACKAGE_BYTES: Final = 2 * 1024**3
MAX_MEMBER_BYTES: Final = 2 * 1024**3
MAX_UNPACKED_BYTES: Final = 4 * 1024**3
MAX_MEMBERS: Final = 20_000
MAX_JSON_BYTES: Final = 16 * 1024**2
MAX_KEY_FILE_BYTES: Final = 64 * 1024

# The envelope: magic ‖ 96-bit nonce ‖ AES-256-GCM ciphertext and tag, the magic bound in as
# associated data so that a blob cut from another format does not decrypt.
MAGIC: Final = b"safeguard-disclosure-aes256gcm/1\n"
_NONCE: Final = 12
_TAG: Final = 16
_KEY_BYTES: Final = 32

_PROOF_KEYS: Final = frozenset(
    {"format", "event", "leaf_index", "tree_size", "inclusion_proof", "checkpoint"}
)
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_ZIP_TIME: Final = (1980, 1, 1, 0, 0, 0)
# The general-purpose flags of a plain member: deflate options (bits 1-2), a data descriptor
# (bit 3) and a UTF-8 name (bit 11). Encryption, patched data and the rest are refused.
_PLAIN_FLAGS: Final = 0x0002 | 0x0004 | 0x0008 | 0x0800


class CustodyError(ValueError):
    """A package cannot be built from these parts; the message says which part and why."""


class DecryptionError(ValueError):
    """An encrypted package that cannot be opened: not one, truncated, or the wrong key."""


# -- Building ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageFile:
    """One disclosed file; `path` is its name in the zip, under files/."""

    path: str
    data: bytes
    category: str
    content_id: str | None
    description: str


@dataclass(frozen=True)
class CustodyEntry:
    """One audit event in a file's chain of custody: its header (as the log's leaf), who acted by
    role and pseudonym, and its payload {actor_label, data} only when legal staff reveal it."""

    header: Mapping[str, Any]
    actor_role: str
    actor_pseudonym: str
    payload: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Prepared:
    """The manifest and custody records, ready for the preparation to be audited: the audit
    event that records it carries `manifest_sha256`, which ties the package to the log."""

    manifest: bytes
    manifest_sha256: str
    custody_records: Mapping[str, bytes]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _path_problem(name: str) -> str | None:
    """Why `name` is not a safe relative path inside a package, or None."""
    if not name or len(name) > 512:
        return "is empty or longer than 512 characters"
    if name.startswith("/") or "\\" in name or re.match(r"[A-Za-z]:", name):
        return "is absolute or uses backslashes"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "has an empty, '.' or '..' component"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in name):
        return "holds a control character"
    return None


def _target_problem(
    header: Mapping[str, Any], content_id: str | None, cases: frozenset[str]
) -> str | None:
    """Whether an event may stand in this file's chain of custody: it acts on the file's content
    item, or on a case the manifest names (a case-level event such as a case opened or closed)."""
    target = header.get("target")
    if not isinstance(target, Mapping):
        return "has no target"
    kind, ident = target.get("type"), target.get("id")
    if kind == "content" and content_id is not None and ident == content_id:
        return None
    if kind == "case" and isinstance(ident, str) and ident in cases:
        return None
    wanted = f"content {content_id}" if content_id is not None else "no content item"
    return f"targets {kind} {ident}, but the file is {wanted} and the package names cases " + (
        ", ".join(sorted(cases)) or "none"
    )


def _header_id(header: Mapping[str, Any]) -> int:
    ident = header.get("id")
    if not isinstance(ident, int) or isinstance(ident, bool):
        raise CustodyError(f"an audit header has no integer id: {dict(header)!r}")
    return ident


def prepare_manifest(
    *,
    package_id: str,
    request: Mapping[str, str],
    files: Sequence[PackageFile],
    custody: Mapping[str, Sequence[CustodyEntry]],
    summary_pdf: bytes,
    created_at: datetime,
    cases: Sequence[str] = (),
) -> Prepared:
    """The manifest (canonical JSON) and one custody record per file, checked for what the
    verifier will refuse: unsafe or repeated paths, events of other items, wrong payloads."""
    if created_at.tzinfo is None:
        raise CustodyError("created_at must be an aware datetime")
    case_ids = frozenset(cases)
    paths = [item.path for item in files]
    for path in paths:
        problem = _path_problem(path)
        if problem or not path.startswith(FILES_DIR):
            raise CustodyError(f"file path {path!r} {problem or 'is not under files/'}")
    if len(set(paths)) != len(paths):
        raise CustodyError("two files have the same path")
    # What the verifier will read: each file comes with a custody record and proofs, so the
    # files may take a third of its member bound and half of its byte bound.
    if len(files) > MAX_MEMBERS // 3:
        raise CustodyError(f"a package holds at most {MAX_MEMBERS // 3} files")
    if sum(len(item.data) for item in files) > MAX_UNPACKED_BYTES // 2:
        raise CustodyError(f"the files are over {MAX_UNPACKED_BYTES // 2} bytes: split the package")
    for item in files:
        if len(item.data) > MAX_MEMBER_BYTES:
            raise CustodyError(
                f"{item.path} is over {MAX_MEMBER_BYTES} bytes, the verifier's bound"
            )
    stray = sorted(set(custody) - set(paths))
    if stray:
        raise CustodyError(f"custody is given for files not in the package: {', '.join(stray)}")
    listed, records, record_bytes = [], [], {}
    for number, item in enumerate(files, start=1):
        entries = sorted(custody.get(item.path, ()), key=lambda entry: _header_id(entry.header))
        if item.content_id is not None and not entries:
            raise CustodyError(f"{item.path} is content item {item.content_id} but has no custody")
        ids = [_header_id(entry.header) for entry in entries]
        if len(set(ids)) != len(ids):
            raise CustodyError(f"{item.path}: an audit event appears twice in its custody")
        events = []
        for entry in entries:
            problem = _target_problem(entry.header, item.content_id, case_ids)
            if problem:
                raise CustodyError(f"{item.path}: event #{_header_id(entry.header)} {problem}")
            if entry.payload is not None and payload_sha256(entry.payload) != entry.header.get(
                "payload_sha256"
            ):
                raise CustodyError(
                    f"{item.path}: the payload given for event #{_header_id(entry.header)} is not "
                    "the one its header hashes"
                )
            events.append(
                {
                    "event": dict(entry.header),
                    "actor_role": entry.actor_role,
                    "actor_pseudonym": entry.actor_pseudonym,
                    "payload": None if entry.payload is None else dict(entry.payload),
                }
            )
        record_path = f"custody/{number}.json"
        data = canonical_json(
            {
                "format": RECORD_FORMAT,
                "file": item.path,
                "content_id": item.content_id,
                "events": events,
            }
        )
        record_bytes[record_path] = data
        records.append({"path": record_path, "file": item.path, "sha256": _sha256(data)})
        listed.append(
            {
                "path": item.path,
                "sha256": _sha256(item.data),
                "size": len(item.data),
                "category": item.category,
                "content_id": item.content_id,
                "description": item.description,
            }
        )
    manifest = canonical_json(
        {
            "format": FORMAT,
            "package_id": package_id,
            "request": dict(request),
            "created_at": created_at.astimezone(UTC).isoformat(timespec="seconds"),
            "cases": sorted(case_ids),
            "files": listed,
            "summary": {"path": SUMMARY, "sha256": _sha256(summary_pdf)},
            "custody": records,
        }
    )
    return Prepared(
        manifest=manifest, manifest_sha256=_sha256(manifest), custody_records=record_bytes
    )


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024**2:
        return f"{count / 1024:.1f} KiB"
    return f"{count / 1024**2:.1f} MiB"


def summary_pdf(
    *,
    package_id: str,
    request: Mapping[str, str],
    files: Sequence[PackageFile],
    custody: Mapping[str, Sequence[CustodyEntry]],
    created_at: datetime,
    footer: str,
    notes: Sequence[str] = (),
) -> bytes:
    """The human-readable summary a package carries: the request, how to verify, each file with
    its SHA-256 and its chain of custody by role and pseudonym."""
    when = created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    doc = PdfDocument(
        f"Disclosure package {package_id}", f"Prepared {when} by Safeguard", footer=footer
    )
    doc.key_values([(key.replace("_", " ").capitalize(), value) for key, value in request.items()])
    for note in notes:
        doc.paragraph(note)
    doc.heading("How to verify this package")
    doc.paragraph(
        "The file manifest.json in the package lists every file with its SHA-256 hash; the "
        "manifest is recorded in the platform's signed audit log, and every event below carries "
        "a proof of inclusion in that log. With the log's public key, obtained separately, run:"
    )
    doc.mono("safeguard custody verify PACKAGE.zip --public-key KEY [--key DECRYPTION_KEY]")
    doc.heading("Files")
    doc.table(
        [
            [str(number), item.path, item.category, _size(len(item.data)), _sha256(item.data)]
            for number, item in enumerate(files, start=1)
        ],
        ["#", "File", "Category", "Size", "SHA-256"],
        mono_columns=[4],
        widths=[0.5, 4.2, 1.7, 1.4, 4.2],
    )
    doc.heading("Chain of custody")
    for number, item in enumerate(files, start=1):
        doc.paragraph(f"{number}. {item.path} — {item.description}")
        entries = sorted(custody.get(item.path, ()), key=lambda entry: _header_id(entry.header))
        if not entries:
            doc.paragraph("No audit event concerns this file alone.")
            continue
        doc.table(
            [
                [
                    f"#{entry.header.get('id')}",
                    str(entry.header.get("time", "")).replace("T", " ")[:19],
                    str(entry.header.get("type", "")),
                    f"{entry.actor_role} {entry.actor_pseudonym}",
                ]
                for entry in entries
            ],
            ["Event", "Time (UTC)", "Action", "By (role, pseudonym)"],
            widths=[1, 2.2, 3, 3],
        )
    return doc.render()


def _proof_path(event_id: int) -> str:
    return f"proofs/{event_id}.json"


def assemble_package(
    *,
    prepared: Prepared,
    files: Sequence[PackageFile],
    summary_pdf: bytes,
    proofs: Sequence[Mapping[str, Any]],
    anchor_proof: Mapping[str, Any],
    anchor_payload: Mapping[str, Any],
) -> bytes:
    """The zip: manifest, summary, one checkpoint, the anchor (the audit event recording the
    preparation, with its payload), the files, their custody records and one proof per custody
    event, all against the same checkpoint."""
    manifest = json.loads(prepared.manifest)
    listed = {entry["path"]: entry for entry in manifest["files"]}
    if {item.path for item in files} != set(listed) or len(files) != len(listed):
        raise CustodyError("the files are not the ones the manifest was prepared for")
    for item in files:
        if _sha256(item.data) != listed[item.path]["sha256"]:
            raise CustodyError(f"{item.path} changed since the manifest was prepared")
    if _sha256(summary_pdf) != manifest["summary"]["sha256"]:
        raise CustodyError("the summary PDF changed since the manifest was prepared")
    headers: dict[int, Mapping[str, Any]] = {}
    for record in prepared.custody_records.values():
        for event in json.loads(record)["events"]:
            headers[event["event"]["id"]] = event["event"]
    by_id: dict[int, Mapping[str, Any]] = {}
    for proof in [*proofs, anchor_proof]:
        shape = _proof_shape(proof)
        if shape:
            raise CustodyError(f"a proof {shape}")
    for proof in proofs:
        event = proof.get("event")
        ident = event.get("id") if isinstance(event, Mapping) else None
        if not isinstance(ident, int) or ident in by_id:
            raise CustodyError(f"a proof has no event id, or repeats one: {ident!r}")
        if headers.get(ident) != event:
            raise CustodyError(
                f"the proof of event #{ident} is for no custody event of the package"
            )
        by_id[ident] = proof
    missing = sorted(set(headers) - set(by_id))
    if missing:
        raise CustodyError(f"no proof for custody events {', '.join(f'#{i}' for i in missing)}")
    notes = {proof.get("checkpoint") for proof in [*proofs, anchor_proof]}
    if len(notes) != 1:
        raise CustodyError(
            "the proofs are against different checkpoints: fetch them all against one"
        )
    note = notes.pop()
    if not isinstance(note, str):
        raise CustodyError("the proofs carry no checkpoint")
    anchor_event = anchor_proof.get("event")
    if not isinstance(anchor_event, Mapping) or payload_sha256(anchor_payload) != anchor_event.get(
        "payload_sha256"
    ):
        raise CustodyError("the anchor payload is not the one the anchor event's header hashes")
    data = anchor_payload.get("data")
    if not isinstance(data, Mapping) or data.get("manifest_sha256") != prepared.manifest_sha256:
        raise CustodyError("the anchor event does not record this manifest's SHA-256")

    members: list[tuple[str, bytes]] = [
        (MANIFEST, prepared.manifest),
        (SUMMARY, summary_pdf),
        (CHECKPOINT, note.encode()),
        (ANCHOR_PROOF, canonical_json(anchor_proof)),
        (ANCHOR_PAYLOAD, canonical_json(anchor_payload)),
        *((item.path, item.data) for item in files),
        *sorted(prepared.custody_records.items()),
        *((_proof_path(ident), canonical_json(by_id[ident])) for ident in sorted(by_id)),
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members:
            # A fixed time: the same package always zips to the same bytes.
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return out.getvalue()


# -- Verifying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: a member of the package, or "package" for the whole."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class Report:
    """What `verify_package` found: the problems (none when valid) and what was checked."""

    problems: list[Problem] = field(default_factory=list)
    package_id: str = ""
    manifest_sha256: str = ""
    files: int = 0
    custody_events: int = 0
    revealed_payloads: int = 0
    tree_size: int = 0
    origin: str = ""
    anchor_event: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, where: str, what: str) -> None:
        self.problems.append(Problem(where, what))


class _Unusable(Exception):
    """The package cannot be read at all; no further check is meaningful."""


class _Archive:
    """A zip read under the bounds: names checked first, members read at most as declared."""

    def __init__(self, data: bytes, report: Report) -> None:
        self.report = report
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            OSError,
            ValueError,
            EOFError,
            NotImplementedError,  # a version or feature of zip a package never uses
        ):
            raise _Unusable("not a zip archive, or a damaged one") from None
        if len(infos) > MAX_MEMBERS:
            raise _Unusable(f"more than {MAX_MEMBERS} members")
        self.infos: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            problem = _path_problem(info.filename)
            if problem:
                raise _Unusable(f"a member's name {info.filename!r} {problem}")
            if info.filename in self.infos:
                raise _Unusable(f"{info.filename} appears twice in the zip")
            if info.file_size > MAX_MEMBER_BYTES:
                raise _Unusable(
                    f"{info.filename} declares {info.file_size} bytes, over the bound of "
                    f"{MAX_MEMBER_BYTES}"
                )
            total += info.file_size
            self.infos[info.filename] = info
        if total > MAX_UNPACKED_BYTES:
            raise _Unusable(f"the members declare {total} bytes, over {MAX_UNPACKED_BYTES}")

    def read(self, name: str, limit: int) -> bytes | None:
        """The member's bytes, or None with the problem recorded (missing, too large, damaged)."""
        info = self.infos.get(name)
        if info is None:
            self.report.add(name, "is missing from the package")
            return None
        if info.file_size > limit:
            self.report.add(name, f"declares {info.file_size} bytes, over its bound of {limit}")
            return None
        if info.flag_bits & ~_PLAIN_FLAGS or info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
        ):
            self.report.add(name, "is encrypted or compressed in a way a package never is")
            return None
        try:
            with self.zip.open(info) as member:
                data = member.read(limit + 1)
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            ValueError,
            EOFError,
            NotImplementedError,
        ) as exc:
            self.report.add(name, f"cannot be read from the zip ({exc}): the zip was damaged")
            return None
        if len(data) > limit:
            self.report.add(name, f"is over its bound of {limit} bytes")
            return None
        return data

    def read_json(self, name: str) -> Any:
        """A JSON member, which must be canonical JSON: any change to its bytes is seen, even
        one that would leave the parsed value alone."""
        data = self.read(name, MAX_JSON_BYTES)
        if data is None:
            return None
        try:
            value = json.loads(data)
            canonical = canonical_json(value) if isinstance(value, dict) else b""
        except (UnicodeDecodeError, ValueError, RecursionError):
            self.report.add(name, "is not JSON: it was changed or damaged")
            return None
        if canonical != data:
            self.report.add(name, "is not a canonical JSON object: it was changed")
            return None
        return value


def _proof_shape(doc: Mapping[str, Any]) -> str | None:
    """A proof in a package is exactly as `safeguard audit prove` writes it: its keys, and each
    hash in base64's one canonical spelling (a changed padding bit would otherwise decode to
    the same hash)."""
    if set(doc) != _PROOF_KEYS or doc.get("format") != PROOF_FORMAT:
        return f"is not a {PROOF_FORMAT} document with exactly its fields"
    hashes = doc.get("inclusion_proof")
    if not isinstance(hashes, list):
        return "has no list of inclusion proof hashes"
    for item in hashes:
        try:
            canonical = isinstance(item, str) and (
                base64.b64encode(base64.b64decode(item, validate=True)).decode() == item
            )
        except (binascii.Error, ValueError):
            canonical = False
        if not canonical:
            return "has an inclusion proof entry that is not canonical base64"
    return None


class _Verifier:
    def __init__(self, archive: _Archive, vkey: str, report: Report) -> None:
        self.archive, self.vkey, self.report = archive, vkey, report
        self.expected: set[str] = {MANIFEST, SUMMARY, CHECKPOINT, ANCHOR_PROOF, ANCHOR_PAYLOAD}
        self.note: str | None = None
        self.note_valid = False
        self.headers: dict[int, Mapping[str, Any]] = {}
        self.unread_records = False

    def run(self) -> None:
        raw_manifest = self.archive.read(MANIFEST, MAX_JSON_BYTES)
        manifest = self.archive.read_json(MANIFEST) if raw_manifest is not None else None
        self.checkpoint()
        listing = isinstance(manifest, dict) and manifest.get("format") == FORMAT
        if isinstance(manifest, dict) and listing:
            self.report.package_id = str(manifest.get("package_id", ""))
            self.contents(manifest)
        elif manifest is not None:
            self.report.add(MANIFEST, f"is not a {FORMAT} manifest")
        if raw_manifest is not None:
            self.report.manifest_sha256 = _sha256(raw_manifest)
        self.anchor()
        # Members are "unlisted" only against a manifest and records that could be read: when
        # one of them was changed, that change is the problem named, not its consequences.
        for name in sorted(set(self.archive.infos) - self.expected):
            if listing and not (name.startswith("proofs/") and self.unread_records):
                self.report.add(name, "is in the zip but not listed by the manifest")

    def checkpoint(self) -> None:
        data = self.archive.read(CHECKPOINT, MAX_JSON_BYTES)
        if data is None:
            return
        try:
            self.note = data.decode("utf-8")
        except UnicodeDecodeError:
            self.report.add(CHECKPOINT, "is not text: it was changed")
            return
        try:
            checkpoint = open_checkpoint(self.note, self.vkey)
        except NoteError as exc:
            self.report.add(CHECKPOINT, f"does not verify with this key: {exc}")
            return
        self.note_valid = True
        self.report.tree_size, self.report.origin = checkpoint.size, checkpoint.origin

    def proof(self, name: str, doc: Any, header: Mapping[str, Any] | None) -> Mapping[str, Any]:
        """Checks one proof; returns its event ({} when it cannot be trusted)."""
        if not isinstance(doc, dict):
            return {}
        shape = _proof_shape(doc)
        if shape:
            self.report.add(name, shape)
            return {}
        if header is not None and doc["event"] != header:
            self.report.add(name, "proves another event than the custody record lists")
            return {}
        if self.note is not None and doc["checkpoint"] != self.note:
            if self.note_valid:  # Else checkpoint.txt itself is named as changed.
                self.report.add(name, f"is against another checkpoint than {CHECKPOINT}")
            return {}
        if not self.note_valid:
            return {}  # The checkpoint's own problem is reported once, above.
        try:
            check_proof(doc, self.vkey)
        except ProofInvalid as exc:
            self.report.add(name, f"does not verify: {exc}")
            return {}
        event: Mapping[str, Any] = doc["event"]
        return event

    def contents(self, manifest: Mapping[str, Any]) -> None:
        files = manifest.get("files")
        records = manifest.get("custody")
        summary = manifest.get("summary")
        cases = manifest.get("cases")
        if not (
            isinstance(files, list)
            and isinstance(records, list)
            and isinstance(summary, dict)
            and isinstance(cases, list)
        ):
            self.report.add(MANIFEST, "lacks its files, custody, summary or cases")
            return
        if summary.get("path") != SUMMARY:
            self.report.add(MANIFEST, f"names a summary other than {SUMMARY}")
        self.hashed(SUMMARY, summary.get("sha256"), None)
        by_path: dict[str, Mapping[str, Any]] = {}
        for entry in files:
            path = entry.get("path") if isinstance(entry, dict) else None
            if not isinstance(path, str) or not path.startswith(FILES_DIR) or _path_problem(path):
                self.report.add(MANIFEST, f"lists a file with an unsafe path: {path!r}")
                continue
            if path in by_path or path in self.expected:
                self.report.add(MANIFEST, f"lists {path} twice")
                continue
            self.expected.add(path)
            by_path[path] = entry
            size = entry.get("size")
            self.hashed(path, entry.get("sha256"), size if isinstance(size, int) else -1)
        self.report.files = len(by_path)
        covered: set[str] = set()
        case_ids = frozenset(case for case in cases if isinstance(case, str))
        for record in records:
            self.custody_record(record, by_path, case_ids, covered)
        for path in sorted(set(by_path) - covered):
            self.report.add(path, "has no custody record in the manifest")

    def hashed(self, name: str, sha256: Any, size: int | None) -> None:
        """Member `name` against the hash (and size) the manifest lists for it."""
        if not isinstance(sha256, str) or not _HEX64.fullmatch(sha256):
            self.report.add(MANIFEST, f"lists no valid SHA-256 for {name}")
            return
        info = self.archive.infos.get(name)
        if info is None:
            self.report.add(name, "is listed by the manifest but missing from the zip")
            return
        if size is not None and info.file_size != size:
            self.report.add(
                name, f"is {info.file_size} bytes, the manifest lists {size}: the file was changed"
            )
            return
        data = self.archive.read(name, MAX_MEMBER_BYTES)
        if data is not None and _sha256(data) != sha256:
            self.report.add(
                name,
                f"has SHA-256 {_sha256(data)}, the manifest lists {sha256}: the file was changed",
            )

    def custody_record(
        self,
        entry: Any,
        files: Mapping[str, Mapping[str, Any]],
        cases: frozenset[str],
        covered: set[str],
    ) -> None:
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not re.fullmatch(r"custody/[1-9][0-9]*\.json", path):
            self.report.add(MANIFEST, f"lists a custody record with a bad path: {path!r}")
            return
        if path in self.expected:
            self.report.add(MANIFEST, f"lists {path} twice")
            return
        self.expected.add(path)
        file = entry.get("file")
        if not isinstance(file, str) or file not in files or file in covered:
            self.report.add(MANIFEST, f"{path} is for {file!r}: no file, or one already covered")
            return
        covered.add(file)
        before = len(self.report.problems)
        self.hashed(path, entry.get("sha256"), None)
        record = self.archive.read_json(path) if len(self.report.problems) == before else None
        if not isinstance(record, dict):
            # A changed record is named above; what it now says proves nothing.
            self.unread_records = True
            return
        content_id = files[file].get("content_id")
        if (
            record.get("format") != RECORD_FORMAT
            or record.get("file") != file
            or record.get("content_id") != content_id
            or not isinstance(record.get("events"), list)
        ):
            self.report.add(path, f"is not the {RECORD_FORMAT} of {file} as the manifest lists")
            return
        if content_id is not None and not record["events"]:
            self.report.add(path, f"lists no custody event for content item {content_id}")
        last = 0
        for event in record["events"]:
            header = event.get("event") if isinstance(event, dict) else None
            ident = header.get("id") if isinstance(header, dict) else None
            if not isinstance(header, dict) or not isinstance(ident, int) or ident <= last:
                self.report.add(path, "has an event without a header, or out of order")
                return
            last = ident
            self.custody_event(path, event, header, ident, content_id, cases)

    def custody_event(
        self,
        path: str,
        event: Mapping[str, Any],
        header: Mapping[str, Any],
        ident: int,
        content_id: Any,
        cases: frozenset[str],
    ) -> None:
        self.report.custody_events += 1
        problem = _target_problem(
            header, content_id if isinstance(content_id, str) else None, cases
        )
        if problem:
            self.report.add(path, f"event #{ident} {problem}")
        payload = event.get("payload")
        if payload is not None:
            self.report.revealed_payloads += 1
            if not isinstance(payload, dict) or payload_sha256(payload) != header.get(
                "payload_sha256"
            ):
                self.report.add(
                    path, f"the revealed payload of event #{ident} is not the one its header hashes"
                )
        name = _proof_path(ident)
        if name in self.expected:
            # An event in two files' custody (a case event) is proven once, for both.
            if self.headers.get(ident) != header:
                self.report.add(path, f"event #{ident} differs from the same event elsewhere")
            return
        self.headers[ident] = header
        self.expected.add(name)
        if name not in self.archive.infos:
            self.report.add(name, f"is missing: event #{ident} of {path} has no proof")
            return
        self.proof(name, self.archive.read_json(name), header)

    def anchor(self) -> None:
        event = self.proof(ANCHOR_PROOF, self.archive.read_json(ANCHOR_PROOF), None)
        payload = self.archive.read_json(ANCHOR_PAYLOAD)
        if not event or not isinstance(payload, dict):
            return  # What is wrong with the proof or the payload is named above.
        self.report.anchor_event = f"#{event.get('id')} ({event.get('type')})"
        if payload_sha256(payload) != event.get("payload_sha256"):
            self.report.add(ANCHOR_PAYLOAD, "is not the payload the anchor event's header hashes")
            return
        data = payload.get("data")
        recorded = data.get("manifest_sha256") if isinstance(data, dict) else None
        if recorded != self.report.manifest_sha256:
            self.report.add(
                MANIFEST,
                f"has SHA-256 {self.report.manifest_sha256}, the anchor event records "
                f"{recorded}: the manifest was changed",
            )


def verify_package(data: bytes, vkey: str) -> Report:
    """Every hash recomputed and every proof checked with the log's verifier key alone."""
    report = Report()
    try:
        archive = _Archive(data, report)
    except _Unusable as exc:
        report.add("package", str(exc))
        return report
    _Verifier(archive, vkey, report).run()
    return report


# -- Encryption -------------------------------------------------------------------------------


def is_encrypted(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


def encrypt_package(data: bytes) -> tuple[bytes, str]:
    """The package sealed with a fresh AES-256-GCM key, and that key as base64url text, to be
    sent to the verified requester by another channel than the package."""
    key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(_NONCE)
    sealed = MAGIC + nonce + AESGCM(key).encrypt(nonce, data, MAGIC)
    return sealed, base64.urlsafe_b64encode(key).rstrip(b"=").decode()


def _parse_key(key: str) -> bytes:
    text = key.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _KEY_BYTES or not re.fullmatch(r"[A-Za-z0-9_-]{43}=?", text):
        raise DecryptionError("the key is not a package key (43 characters of base64url)")
    return raw


def decrypt_package(blob: bytes, key: str) -> bytes:
    raw = _parse_key(key)
    if not is_encrypted(blob):
        raise DecryptionError("the file is not an encrypted disclosure package")
    if len(blob) < len(MAGIC) + _NONCE + _TAG:
        raise DecryptionError("the encrypted package is truncated")
    nonce = blob[len(MAGIC) : len(MAGIC) + _NONCE]
    try:
        return AESGCM(raw).decrypt(nonce, blob[len(MAGIC) + _NONCE :], MAGIC)
    except InvalidTag:
        raise DecryptionError(
            "it does not decrypt with this key: the wrong key, or the file was changed or truncated"
        ) from None


# -- The command ------------------------------------------------------------------------------


def _key_text(value: str, what: str) -> str:
    """A key given on the command line, or the name of a file that holds it."""
    if os.path.isfile(value):
        try:
            return read_text(value, max_bytes=MAX_KEY_FILE_BYTES).strip()
        except Unreadable as exc:
            raise _Usage(f"the {what}: {exc}") from None
    return value.strip()


class _Usage(Exception):
    pass


def _read_package(name: str) -> bytes:
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_PACKAGE_BYTES + 1)
        else:
            path = Path(name)
            if path.stat().st_size > MAX_PACKAGE_BYTES:
                raise _Usage(f"{name} is over {MAX_PACKAGE_BYTES} bytes: not a package")
            data = path.read_bytes()
    except OSError as exc:
        raise _Usage(f"cannot read {name}: {exc.strerror}") from None
    if len(data) > MAX_PACKAGE_BYTES:
        raise _Usage(f"{name} is over {MAX_PACKAGE_BYTES} bytes: not a package")
    return data


def _summary(report: Report) -> Iterator[str]:
    yield f"package VALID: {report.package_id}"
    yield f"  manifest sha256 {report.manifest_sha256}"
    yield f"  anchored in the log by audit event {report.anchor_event}"
    yield f"  {report.files} files, each matching its SHA-256"
    yield (
        f"  {report.custody_events} custody events, each proven in the log "
        f"({report.revealed_payloads} with their payload revealed)"
    )
    yield (
        f"  checkpoint: the log {report.origin} at tree size {report.tree_size}, signed by this key"
    )


def main(argv: Sequence[str]) -> int:
    """`safeguard custody verify PACKAGE --public-key KEY [--key KEY]`: 0 when it verifies."""
    parser = argparse.ArgumentParser(
        prog="safeguard custody verify",
        description="Verify a disclosure package with the audit log's public key (no database).",
    )
    parser.add_argument("package", help="the package (.zip, or encrypted), or - for stdin")
    parser.add_argument(
        "--public-key",
        required=True,
        help="the log's key as `safeguard audit public-key` prints it, or a file holding it",
    )
    parser.add_argument("--key", help="the decryption key sent with the package, or its file")
    args = parser.parse_args(list(argv))
    try:
        vkey = _key_text(args.public_key, "public key")
        data = _read_package(args.package)
        if is_encrypted(data):
            if args.key is None:
                raise _Usage(f"{args.package} is encrypted: give the key sent with it as --key KEY")
            data = decrypt_package(data, _key_text(args.key, "decryption key"))
    except _Usage as exc:
        sys.stderr.write(f"safeguard: {exc}\n")
        return 2
    except DecryptionError as exc:
        sys.stderr.write(f"package INVALID: cannot decrypt {args.package}: {exc}\n")
        return 1
    report = verify_package(data, vkey)
    if not report.ok:
        count = len(report.problems)
        sys.stderr.write(f"package INVALID: {count} problem{'s' if count > 1 else ''}\n")
        for problem in report.problems:
            sys.stderr.write(f"  {problem}\n")
        return 1
    sys.stdout.write("".join(line + "\n" for line in _summary(report)))
    return 0
