"""Disclosure packages without a database: a package built against a real (in-memory) audit tree
verifies with the public key alone; one changed byte in any member fails and is named; hostile
zips, wrong builds and wrong keys get a clear error, never a trace."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from safeguard.audit.checkpoint import Checkpoint, checkpoint_text, sign_note, verifier_key
from safeguard.audit.leaves import canonical_json, header, leaf_of, payload, payload_sha256
from safeguard.audit.merkle import inclusion_proof, root
from safeguard.audit.proofs import PROOF_FORMAT
from safeguard.evidence import custody
from safeguard.evidence.custody import (
    CustodyEntry,
    CustodyError,
    DecryptionError,
    PackageFile,
    Prepared,
    assemble_package,
    decrypt_package,
    encrypt_package,
    prepare_manifest,
    summary_pdf,
    verify_package,
)

ORIGIN = "safeguard.example/audit"
_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
VKEY = verifier_key(ORIGIN, _KEY.public_key())
FOOTER = "CONFIDENTIAL — law-enforcement disclosure (fictional test data)"
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
REQUEST = {
    "reference": "LE-2026-0042",
    "agency": "Northshire Police Service (fictional)",
    "process": "search warrant",
    "requester": "det.ivers@police.example.org",
}


class Log:
    """An audit log in memory: headers as leaves, a signed checkpoint, proofs as the real
    `safeguard audit prove` writes them."""

    def __init__(self) -> None:
        self.headers: list[dict[str, Any]] = []
        self.payloads: dict[int, dict[str, Any]] = {}

    def record(
        self, kind: str, target: tuple[str, str], data: Mapping[str, Any], actor: str = "sam"
    ) -> dict[str, Any]:
        body = payload(actor_label=actor, data=data)
        ident = len(self.headers) + 1
        event = header(
            event_id=ident,
            created_at=START + timedelta(minutes=ident),
            event_type=kind,
            source="api",
            target_type=target[0],
            target_id=target[1],
            actor_id=ident % 3 + 1,
            payload_hash=payload_sha256(body),
        )
        self.headers.append(event)
        self.payloads[ident] = body
        return event

    def note(self, size: int | None = None) -> str:
        size = len(self.headers) if size is None else size
        tree = root([leaf_of(h) for h in self.headers[:size]])
        point = Checkpoint(origin=ORIGIN, size=size, root=tree)
        return sign_note(checkpoint_text(point), ORIGIN, _KEY)

    def prove(self, event: Mapping[str, Any], size: int | None = None) -> dict[str, Any]:
        size = len(self.headers) if size is None else size
        index = self.headers.index(dict(event))
        leaves = [leaf_of(h) for h in self.headers[:size]]
        return {
            "format": PROOF_FORMAT,
            "event": dict(event),
            "leaf_index": index,
            "tree_size": size,
            "inclusion_proof": [
                base64.b64encode(h).decode() for h in inclusion_proof(index, size, leaves)
            ],
            "checkpoint": self.note(size),
        }


@dataclass
class Built:
    log: Log
    files: list[PackageFile]
    custody: dict[str, list[CustodyEntry]]
    summary: bytes
    prepared: Prepared
    anchor: dict[str, Any]
    package: bytes


Edit = Callable[[dict[str, Any], dict[str, bytes]], None]


def png_bytes() -> bytes:
    """A small generated checkerboard PNG: benign bytes standing for a disclosed image."""
    image = Image.new("L", (16, 16))
    image.putdata([255 * ((x // 4 + y // 4) % 2) for y in range(16) for x in range(16)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def build(*, edit: Edit | None = None, reveal: bool = True) -> Built:
    """The reference package: two content items and a subscriber-records export of case 5.
    `edit` changes the manifest and custody records before the preparation is anchored, as a
    builder who controls the log could."""
    log = Log()
    received = log.record("content.received", ("content", "17"), {"sha256": "ab" * 32})
    opened = log.record("case.opened", ("case", "5"), {"priority": "P0"})
    viewed = log.record("content.viewed", ("content", "17"), {"reason": "triage"}, "rosa")
    log.record("user.created", ("user", "3"), {"username": "kim"})
    received_18 = log.record("content.received", ("content", "18"), {"sha256": "cd" * 32})
    held = log.record("hold.placed", ("content", "18"), {"reason": "preservation"}, "lou")
    files = [
        PackageFile("files/content-17.png", png_bytes(), "content", "17", "Image sent in chat"),
        PackageFile(
            "files/content-18.txt",
            b"Message text (fictional)\n",
            "content",
            "18",
            "Chat message <with markup> & ünïcødé",
        ),
        PackageFile(
            "files/subscriber-records.json",
            b'{"account": "user-4411", "email": "kim@example.net"}',
            "subscriber",
            None,
            "Basic subscriber information",
        ),
    ]
    role = {
        "sam": ("specialist", "R-7f3a"),
        "rosa": ("reviewer", "R-19c2"),
        "lou": ("legal", "L-02"),
    }

    def entry(event: dict[str, Any], actor: str) -> CustodyEntry:
        shown = log.payloads[event["id"]] if reveal and actor == "lou" else None
        return CustodyEntry(event, *role[actor], payload=shown)

    chain = {
        "files/content-17.png": [
            entry(viewed, "rosa"),
            entry(received, "sam"),
            entry(opened, "sam"),
        ],
        "files/content-18.txt": [entry(received_18, "sam"), entry(held, "lou")],
        "files/subscriber-records.json": [entry(opened, "sam")],
    }
    created = START + timedelta(hours=2)
    summary = summary_pdf(
        package_id="PKG-0007",
        request=REQUEST,
        files=files,
        custody=chain,
        created_at=created,
        footer=FOOTER,
    )
    prepared = prepare_manifest(
        package_id="PKG-0007",
        request=REQUEST,
        files=files,
        custody=chain,
        summary_pdf=summary,
        created_at=created,
        cases=["5"],
    )
    if edit is not None:
        manifest = json.loads(prepared.manifest)
        records = dict(prepared.custody_records)
        edit(manifest, records)
        for entry_ in manifest["custody"]:
            if entry_["path"] in records:
                entry_["sha256"] = custody._sha256(records[entry_["path"]])
        raw = canonical_json(manifest)
        prepared = Prepared(raw, custody._sha256(raw), records)
    anchor = log.record(
        "disclosure.prepared",
        ("disclosure", "PKG-0007"),
        {"manifest_sha256": prepared.manifest_sha256},
        "lou",
    )
    log.record("user.created", ("user", "9"), {"username": "later"})
    events = {
        event["event"]["id"]: event["event"]
        for record in prepared.custody_records.values()
        for event in json.loads(record)["events"]
    }
    package = assemble_package(
        prepared=prepared,
        files=files,
        summary_pdf=summary,
        proofs=[log.prove(event) for event in events.values()],
        anchor_proof=log.prove(anchor),
        anchor_payload=log.payloads[anchor["id"]],
    )
    return Built(log, files, chain, summary, prepared, anchor, package)


@cache
def reference() -> Built:
    return build()


def members(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(contents: Mapping[str, bytes] | list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    items = contents.items() if isinstance(contents, Mapping) else contents
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in items:
            archive.writestr(name, data)
    return out.getvalue()


def problems(package: bytes, vkey: str = VKEY) -> list[str]:
    return [str(problem) for problem in verify_package(package, vkey).problems]


MEMBERS = sorted(members(reference().package))


def test_the_reference_package_verifies_with_the_public_key_alone() -> None:
    report = verify_package(reference().package, VKEY)

    assert report.problems == []
    assert report.package_id == "PKG-0007"
    assert (report.files, report.custody_events, report.revealed_payloads) == (3, 6, 1)
    assert (report.origin, report.tree_size) == (ORIGIN, 8)
    assert report.anchor_event == "#7 (disclosure.prepared)"
    assert report.manifest_sha256 == reference().prepared.manifest_sha256


def test_the_package_holds_what_the_format_promises() -> None:
    contents = members(reference().package)
    manifest = json.loads(contents["manifest.json"])

    assert (
        sorted(
            [
                "manifest.json",
                "summary.pdf",
                "checkpoint.txt",
                "anchor/proof.json",
                "anchor/payload.json",
                "files/content-17.png",
                "files/content-18.txt",
                "files/subscriber-records.json",
                "custody/1.json",
                "custody/2.json",
                "custody/3.json",
                # The case event #2 is in two files' custody and proven once.
                "proofs/1.json",
                "proofs/2.json",
                "proofs/3.json",
                "proofs/5.json",
                "proofs/6.json",
            ]
        )
        == MEMBERS
    )
    assert manifest["format"] == "safeguard-disclosure/1"
    assert manifest["request"] == REQUEST
    assert manifest["created_at"] == "2026-11-30T11:00:00+00:00"
    assert manifest["files"][1] == {
        "path": "files/content-18.txt",
        "sha256": hashlib.sha256(b"Message text (fictional)\n").hexdigest(),
        "size": 25,
        "category": "content",
        "content_id": "18",
        "description": "Chat message <with markup> & ünïcødé",
    }
    assert manifest["summary"] == {
        "path": "summary.pdf",
        "sha256": hashlib.sha256(contents["summary.pdf"]).hexdigest(),
    }
    record = json.loads(contents["custody/1.json"])
    assert [event["event"]["id"] for event in record["events"]] == [1, 2, 3]
    assert [(e["actor_role"], e["actor_pseudonym"]) for e in record["events"]] == [
        ("specialist", "R-7f3a"),
        ("specialist", "R-7f3a"),
        ("reviewer", "R-19c2"),
    ]
    # Names are in payloads only, and a payload is in the package only when revealed.
    assert b"rosa" not in contents["custody/1.json"]
    assert json.loads(contents["custody/2.json"])["events"][1]["payload"]["actor_label"] == "lou"
    assert contents["checkpoint.txt"].decode() == reference().log.note()
    assert json.loads(contents["anchor/payload.json"])["data"] == {
        "manifest_sha256": reference().prepared.manifest_sha256
    }


def test_the_same_parts_zip_to_the_same_bytes() -> None:
    assert build().package == reference().package


@pytest.mark.parametrize("member", MEMBERS)
@pytest.mark.parametrize("where", [0, 0.5, -1])
def test_one_changed_byte_in_any_member_fails_and_is_named(member: str, where: float) -> None:
    contents = members(reference().package)
    data = bytearray(contents[member])
    position = int(where * (len(data) - 1)) if where >= 0 else len(data) - 1
    data[position] ^= 0x01
    contents[member] = bytes(data)

    found = problems(rezip(contents))

    assert found, member
    assert any(member in problem for problem in found), found


@settings(max_examples=120)
@given(st.sampled_from(MEMBERS), st.integers(min_value=0), st.integers(1, 255))
def test_any_changed_byte_anywhere_fails(member: str, position: int, flip: int) -> None:
    contents = members(reference().package)
    data = bytearray(contents[member])
    data[position % len(data)] ^= flip
    contents[member] = bytes(data)

    found = problems(rezip(contents))

    assert any(member in problem for problem in found), found


@settings(max_examples=150)
@given(st.integers(min_value=0), st.integers(1, 255))
def test_a_damaged_zip_is_a_clear_error_or_the_same_contents(position: int, flip: int) -> None:
    package = bytearray(reference().package)
    package[position % len(package)] ^= flip

    report = verify_package(bytes(package), VKEY)

    # A changed byte of the zip's own bookkeeping (a date, a comment) leaves the contents as
    # they were; any other change is reported, never raised.
    if report.ok:
        assert members(bytes(package)) == members(reference().package)


_JSON_MEMBERS = [name for name in MEMBERS if name.endswith(".json")]
_ODD_VALUES = [None, 0, -1, 10**30, 1.5, True, "", "../x", "files/content-17.png", [], {}, [1]]


def _nodes(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _nodes(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _nodes(item, (*at, index))
    return found


@settings(max_examples=150)
@given(st.sampled_from(_JSON_MEMBERS), st.integers(min_value=0), st.sampled_from(_ODD_VALUES))
def test_any_value_in_a_json_member_changed_is_a_problem_not_a_crash(
    member: str, node: int, value: Any
) -> None:
    contents = members(reference().package)
    doc = json.loads(contents[member])
    at = _nodes(doc)[node % len(_nodes(doc))]
    if not at:
        doc = value
    else:
        parent = doc
        for step in at[:-1]:
            parent = parent[step]
        parent[at[-1]] = value
    contents[member] = canonical_json(doc) if isinstance(doc, dict) else json.dumps(doc).encode()

    found = problems(rezip(contents))

    # Changed to the value it had is no change; anything else is named, never raised.
    assert found or contents == members(reference().package)


def test_another_key_fails_on_the_checkpoint() -> None:
    other = verifier_key(ORIGIN, Ed25519PrivateKey.generate().public_key())

    found = problems(reference().package, other)

    assert found == [
        "checkpoint.txt: does not verify with this key: the note is not signed by "
        f"{ORIGIN}+{other.split('+')[1]}"
    ]


def test_a_missing_an_extra_and_a_removed_member_are_named() -> None:
    contents = members(reference().package)
    del contents["proofs/3.json"]
    contents["files/extra.bin"] = b"not listed"

    found = problems(rezip(contents))

    assert "proofs/3.json: is missing: event #3 of custody/1.json has no proof" in found
    assert "files/extra.bin: is in the zip but not listed by the manifest" in found


def test_a_proof_against_another_checkpoint_is_refused_even_if_valid() -> None:
    built = reference()
    contents = members(built.package)
    # A true proof of event 3, against the older tree of 7 events.
    contents["proofs/3.json"] = canonical_json(built.log.prove(built.log.headers[2], size=7))

    found = problems(rezip(contents))

    assert found == ["proofs/3.json: is against another checkpoint than checkpoint.txt"]


def test_a_proof_of_another_event_is_refused() -> None:
    built = reference()
    contents = members(built.package)
    contents["proofs/3.json"] = canonical_json(built.log.prove(built.log.headers[3]))

    assert problems(rezip(contents)) == [
        "proofs/3.json: proves another event than the custody record lists"
    ]


def test_a_non_canonical_but_equal_proof_is_refused() -> None:
    contents = members(reference().package)
    contents["proofs/1.json"] = json.dumps(json.loads(contents["proofs/1.json"])).encode()

    assert problems(rezip(contents)) == [
        "proofs/1.json: is not a canonical JSON object: it was changed"
    ]


def test_a_base64_spelling_that_decodes_the_same_is_refused() -> None:
    contents = members(reference().package)
    doc = json.loads(contents["proofs/1.json"])
    first = doc["inclusion_proof"][0]
    # The last character before "=" carries two unused bits: set one and it decodes the same.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet[alphabet.index(first[-2]) ^ 1]
    doc["inclusion_proof"][0] = first[:-2] + last + "="
    assert base64.b64decode(doc["inclusion_proof"][0]) == base64.b64decode(first)
    contents["proofs/1.json"] = canonical_json(doc)

    assert problems(rezip(contents)) == [
        "proofs/1.json: has an inclusion proof entry that is not canonical base64"
    ]


# -- What only a builder who controls the log could get wrong: caught all the same. ----------


def test_an_event_of_another_content_item_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def swap(manifest: dict[str, Any], records: dict[str, bytes]) -> None:
        record = json.loads(records["custody/2.json"])
        record["events"][0] = json.loads(records["custody/1.json"])["events"][0]
        records["custody/2.json"] = canonical_json(record)

    found = problems(build(edit=swap).package)

    assert found == [
        "custody/2.json: event #1 targets content 17, but the file is content 18 and the "
        "package names cases 5"
    ]


def test_a_case_event_is_allowed_only_for_a_case_the_manifest_names() -> None:
    def forget_case(manifest: dict[str, Any], records: dict[str, bytes]) -> None:
        manifest["cases"] = ["6"]

    found = problems(build(edit=forget_case).package)

    assert found == [
        "custody/1.json: event #2 targets case 5, but the file is content 17 and the package "
        "names cases 6",
        "custody/3.json: event #2 targets case 5, but the file is no content item and the "
        "package names cases 6",
    ]


def test_a_revealed_payload_must_be_the_one_its_header_hashes() -> None:
    def soften(manifest: dict[str, Any], records: dict[str, bytes]) -> None:
        record = json.loads(records["custody/2.json"])
        record["events"][1]["payload"]["data"]["reason"] = "routine"
        records["custody/2.json"] = canonical_json(record)

    assert problems(build(edit=soften).package) == [
        "custody/2.json: the revealed payload of event #6 is not the one its header hashes"
    ]


def test_a_content_file_without_custody_and_a_file_without_record_are_named() -> None:
    def strip(manifest: dict[str, Any], records: dict[str, bytes]) -> None:
        record = json.loads(records["custody/2.json"])
        record["events"] = []
        records["custody/2.json"] = canonical_json(record)
        manifest["custody"] = [c for c in manifest["custody"] if c["path"] != "custody/3.json"]
        del records["custody/3.json"]

    found = problems(build(edit=strip).package)

    assert found == [
        "custody/2.json: lists no custody event for content item 18",
        "files/subscriber-records.json: has no custody record in the manifest",
    ]


def test_a_manifest_not_anchored_in_the_log_is_named() -> None:
    built = reference()
    contents = members(built.package)
    manifest = json.loads(contents["manifest.json"])
    manifest["request"]["process"] = "subpoena"
    contents["manifest.json"] = canonical_json(manifest)

    found = problems(rezip(contents))

    assert found == [
        f"manifest.json: has SHA-256 {custody._sha256(contents['manifest.json'])}, the anchor "
        f"event records {built.prepared.manifest_sha256}: the manifest was changed"
    ]


# -- Hostile zips ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../evil.txt", "/etc/passwd", "files/../../evil", "C:/x", "files\\x", "files//x"]
)
def test_an_unsafe_name_in_the_zip_is_refused(name: str) -> None:
    contents = [*members(reference().package).items(), (name, b"x")]

    found = problems(rezip(contents))

    assert len(found) == 1, found
    assert found[0].startswith(f"package: a member's name {name!r}"), found


def test_a_name_twice_in_the_zip_is_refused() -> None:
    contents = [*members(reference().package).items(), ("files/content-17.png", b"other")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of the duplicate we make
        package = rezip(contents)

    assert problems(package) == ["package: files/content-17.png appears twice in the zip"]


def _declare_size(package: bytes, name: str, size: int) -> bytes:
    """The zip with the central directory claiming `size` uncompressed bytes for `name`."""
    data = bytearray(package)
    entry = data.find(b"PK\x01\x02")
    while entry >= 0:
        length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46 : entry + 46 + length] == name.encode():
            struct.pack_into("<I", data, entry + 24, size)
            return bytes(data)
        entry = data.find(b"PK\x01\x02", entry + 4)
    raise AssertionError(name)


def test_a_huge_declared_size_is_refused_unread() -> None:
    package = _declare_size(reference().package, "files/content-17.png", 0xFFFFFFF0)

    assert problems(package) == [
        f"package: files/content-17.png declares {0xFFFFFFF0} bytes, over the bound of "
        f"{custody.MAX_MEMBER_BYTES}"
    ]


def test_a_zip_bomb_in_place_of_a_file_is_not_inflated() -> None:
    contents = members(reference().package)
    contents["files/content-18.txt"] = b"\0" * (64 * 1024 * 1024)
    package = rezip(contents)
    assert len(package) < 1024 * 1024

    found = problems(package)

    assert found == [
        "files/content-18.txt: is 67108864 bytes, the manifest lists 25: the file was changed"
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "package: not a zip archive, or a damaged one"),
        (b"%PDF-1.7 not a package", "package: not a zip archive, or a damaged one"),
        (
            reference().package[: len(reference().package) // 2],
            "package: not a zip archive, or a damaged one",
        ),
    ],
)
def test_what_is_not_a_zip_is_one_clear_problem(data: bytes, expected: str) -> None:
    assert problems(data) == [expected]


def test_an_empty_zip_lists_what_is_missing() -> None:
    found = problems(rezip({}))

    assert "manifest.json: is missing from the package" in found
    assert "checkpoint.txt: is missing from the package" in found


# -- Building ------------------------------------------------------------------------------------


def _prepare(**changes: Any) -> Prepared:
    built = reference()
    args: dict[str, Any] = {
        "package_id": "PKG-0007",
        "request": REQUEST,
        "files": built.files,
        "custody": built.custody,
        "summary_pdf": built.summary,
        "created_at": START,
        "cases": ["5"],
        **changes,
    }
    return prepare_manifest(**args)


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("files/../x", "'..' component"),
        ("/files/x", "absolute"),
        ("content-17.png", "not under files/"),
        ("files/a\nb", "control character"),
    ],
)
def test_an_unsafe_file_path_is_refused_on_build(path: str, why: str) -> None:
    files = [replace(reference().files[2], path=path)]
    with pytest.raises(CustodyError, match=why):
        _prepare(files=files, custody={})


def test_wrong_builds_are_refused_with_the_reason() -> None:
    built = reference()
    with pytest.raises(CustodyError, match="same path"):
        _prepare(files=[built.files[2], built.files[2]], custody={})
    with pytest.raises(CustodyError, match="content item 17 but has no custody"):
        _prepare(custody={})
    with pytest.raises(CustodyError, match="targets case 5, but the file is content 17"):
        _prepare(cases=[])
    with pytest.raises(CustodyError, match="aware"):
        _prepare(created_at=datetime(2026, 11, 30))
    wrong = replace(
        built.custody["files/content-18.txt"][1], payload={"actor_label": "x", "data": {}}
    )
    with pytest.raises(CustodyError, match="not the one its header hashes"):
        _prepare(custody={**built.custody, "files/content-18.txt": [wrong]})


def test_proofs_against_two_checkpoints_or_missing_are_refused_on_assembly() -> None:
    built = reference()
    events = {
        e["event"]["id"]: e["event"]
        for record in built.prepared.custody_records.values()
        for e in json.loads(record)["events"]
    }
    proofs = [built.log.prove(event) for event in events.values()]
    anchor = built.log.prove(built.anchor)
    payload_ = built.log.payloads[built.anchor["id"]]

    def assemble(
        proofs: list[dict[str, Any]], anchor_payload: Mapping[str, Any] = payload_
    ) -> bytes:
        return assemble_package(
            prepared=built.prepared,
            files=built.files,
            summary_pdf=built.summary,
            proofs=proofs,
            anchor_proof=anchor,
            anchor_payload=anchor_payload,
        )

    assert assemble(proofs) == built.package
    with pytest.raises(CustodyError, match="different checkpoints"):
        assemble([*proofs[:-1], built.log.prove(events[6], size=7)])
    with pytest.raises(CustodyError, match="no proof for custody events #6"):
        assemble(proofs[:-1])
    with pytest.raises(CustodyError, match="header hashes"):
        assemble(proofs, {**payload_, "data": {"manifest_sha256": "0" * 64}})


def test_the_summary_names_the_files_their_hashes_and_who_acted() -> None:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(reference().summary)).pages)

    assert "Disclosure package PKG-0007" in text
    assert "Northshire Police Service (fictional)" in text
    assert "Chat message <with markup> & ünïcødé" in text
    assert "reviewer R-19c2" in text
    assert "rosa" not in text
    digest = custody._sha256(reference().files[0].data)
    assert digest in text.replace("\n", "")
    assert "Page 1 of" in text


# -- Encryption ----------------------------------------------------------------------------------


def test_an_encrypted_package_decrypts_with_its_key_only() -> None:
    package = reference().package
    sealed, key = encrypt_package(package)
    again, other = encrypt_package(package)

    assert decrypt_package(sealed, key) == package
    # A fresh key and nonce each time.
    assert sealed != again
    assert key != other
    assert sealed.startswith(custody.MAGIC)
    assert package not in sealed
    assert len(key) == 43
    with pytest.raises(DecryptionError, match="wrong key"):
        decrypt_package(sealed, other)
    with pytest.raises(DecryptionError, match="truncated"):
        decrypt_package(sealed[: len(custody.MAGIC) + 20], key)
    with pytest.raises(DecryptionError, match="wrong key, or the file was changed or truncated"):
        decrypt_package(sealed[:-1], key)
    with pytest.raises(DecryptionError, match="not an encrypted disclosure package"):
        decrypt_package(package, key)
    with pytest.raises(DecryptionError, match="not a package key"):
        decrypt_package(sealed, "not-a-key")


@settings(max_examples=60)
@given(st.integers(min_value=0), st.integers(1, 255))
def test_any_changed_byte_of_an_encrypted_package_is_refused(position: int, flip: int) -> None:
    sealed, key = encrypt_package(b"a small package")
    data = bytearray(sealed)
    data[position % len(data)] ^= flip

    with pytest.raises(DecryptionError):
        decrypt_package(bytes(data), key)
