"""Scanning: an upload whose hash is in a bank becomes an automated escalation, ranked by triage,
visible through the API without the media; and `safeguard scan` over a folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.config.demo import pattern_png
from safeguard.evidence.models import ContentItem
from safeguard.intake.models import Escalation
from safeguard.matching.formats import BankFormat
from safeguard.matching.models import ContentMatch
from safeguard.matching.services import bank_add_media, bank_create, bank_import
from tests.audit_helpers import assert_audited_many
from tests.cli import clean_env, safeguard
from tests.conftest import ApiClient, case_of, escalation_body
from tests.tasks import run_tasks

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

KNOWN = pattern_png("circles", 2)


def upload(service_api: ApiClient, data: bytes, n: int) -> dict[str, Any]:
    created = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            external_id=f"up-{n}",
            category="other",
            summary="A user report.",
            subjects=[{"platform_id": "user:uploader", "role": "suspect"}],
            content=[{"platform_id": f"img:{n}", "kind": "image"}],
        ),
    ).json()
    content_id = created["content"][0]["id"]
    stored = service_api.upload(
        f"/api/v1/content/{content_id}/media",
        {"file": SimpleUploadedFile("x.png", data, content_type="image/png")},
    )
    assert stored.status_code == 201, stored.content
    return dict(created)


def test_an_upload_matching_a_verified_bank_becomes_a_p1_automated_escalation(
    service_api: ApiClient, api_for: Any
) -> None:
    bank = bank_create(name="known", verified=True, actor=None, source=AuditSource.CLI)
    bank_add_media(bank=bank, data=KNOWN, actor=None, source=AuditSource.CLI)
    first = upload(service_api, KNOWN, 1)
    assert case_of(first).priority == "P3"

    run_tasks()

    matches = list(ContentMatch.objects.order_by("signal_type"))
    assert [(m.signal_type, m.distance) for m in matches] == [("md5", 0), ("pdq", 0), ("sha256", 0)]
    automated = Escalation.objects.get(channel="automated")
    assert {m.escalation for m in matches} == {automated}
    assert automated.case_link.case == case_of(first)
    case = api_for(Role.SPECIALIST).get(f"/api/v1/cases/{case_of(first).pk}").json()
    assert case["priority"] == "P1"
    assert "verified hash bank" in case["explanation"]
    item = case["escalations"][0]["content"][0]
    assert {(m["bank"], m["distance"], m["verified"]) for m in item["matches"]} == {
        ("known", 0, True)
    }
    content = ContentItem.objects.get(pk=first["content"][0]["id"])
    found = assert_audited_many(
        AuditEventType.CONTENT_MATCHED, count=3, target=content, actor=None, source=AuditSource.TASK
    )
    assert sorted((e.data["signal_type"], e.data["distance"]) for e in found) == [
        ("md5", 0),
        ("pdq", 0),
        ("sha256", 0),
    ]
    assert {e.data["bank"] for e in found} == {"known"}
    assert {e.data["entry"] for e in found} == {m.entry_id for m in matches}
    assert {e.data["suppressed_by_allow_list_entry"] for e in found} == {None}

    run_tasks()  # a second scan run (at-least-once) adds nothing
    assert Escalation.objects.filter(channel="automated").count() == 1
    assert_audited_many(AuditEventType.CONTENT_MATCHED, count=3, target=content)


def test_an_upload_matching_nothing_or_an_allow_list_stays_quiet(service_api: ApiClient) -> None:
    allow = bank_create(name="allow", allow_list=True, actor=None, source=AuditSource.CLI)
    known = bank_create(name="known", verified=True, actor=None, source=AuditSource.CLI)
    for bank in (allow, known):
        bank_add_media(bank=bank, data=KNOWN, actor=None, source=AuditSource.CLI)

    upload(service_api, KNOWN, 1)
    upload(service_api, pattern_png("stripes", 2), 2)
    run_tasks()

    assert not Escalation.objects.filter(channel="automated").exists()
    suppressed = ContentMatch.objects.filter(suppressed_by__isnull=False)
    assert {m.entry.bank.name for m in suppressed} == {"known"}


def test_scan_a_folder_of_good_corrupt_and_matching_files(tmp_path: Path) -> None:
    folder = tmp_path / "media"
    (folder / "sub").mkdir(parents=True)
    (folder / "known.png").write_bytes(KNOWN)
    (folder / "other.png").write_bytes(pattern_png("stripes", 1))
    (folder / "sub" / "truncated.png").write_bytes(KNOWN[: len(KNOWN) // 2])
    (folder / "sub" / "empty.jpg").write_bytes(b"")
    (folder / "notes.txt").write_text("not an image")
    from tests.matching.test_video import timeline, write_video

    write_video(folder / "clip.mp4", timeline([7, 8, 9]))
    known_file = tmp_path / "known-bank.png"
    known_file.write_bytes(KNOWN)
    env = clean_env(tmp_path / "var")
    assert safeguard(env, "migrate", "--verbosity", "0").returncode == 0
    assert safeguard(env, "banks", "create", "known", "--verified").returncode == 0
    from safeguard.matching.signals import get_signal_type

    pdq = get_signal_type("pdq").hash_bytes(KNOWN).hash
    (tmp_path / "bank.txt").write_text(f"{pdq}\n")
    imported = safeguard(
        env, "banks", "import", "known", str(tmp_path / "bank.txt"), "--signal-type", "pdq"
    )
    assert imported.returncode == 0, imported.stderr

    scanned = safeguard(env, "scan", str(folder))
    hashed_only = safeguard(clean_env(tmp_path / "no-db"), "scan", "--no-match", str(folder))

    assert scanned.returncode == 0, scanned.stderr
    lines = {Path(r["path"]).name: r for r in map(json.loads, scanned.stdout.splitlines())}
    assert set(lines) == {
        "known.png",
        "other.png",
        "truncated.png",
        "empty.jpg",
        "notes.txt",
        "clip.mp4",
    }
    assert lines["clip.mp4"]["signal_type"] == "video"
    assert lines["clip.mp4"]["hash"].startswith("sgv1;")
    assert [m["bank"] for m in lines["known.png"]["matches"]] == ["known"]
    assert lines["known.png"]["signal_type"] == "pdq"
    assert lines["known.png"]["quality"] == 100
    assert lines["other.png"]["matches"] == []
    assert lines["other.png"]["error"] is None
    for bad in ("truncated.png", "empty.jpg", "notes.txt"):
        assert lines[bad]["error"], bad
        assert lines[bad]["hash"] is None
    assert "scanned 6 file(s): 3 hashed, 3 error(s), 1 matched" in scanned.stderr
    assert hashed_only.returncode == 0, hashed_only.stderr
    assert len(hashed_only.stdout.splitlines()) == 6
    assert not (tmp_path / "no-db").exists()


def test_an_uploaded_video_matching_a_bank_video_is_escalated(
    service_api: ApiClient, tmp_path: Path
) -> None:
    from tests.matching.test_video import decoded, timeline, write_video

    original = write_video(tmp_path / "known.mp4", timeline([1, 2, 3, 4, 5, 6]))
    copy = write_video(
        tmp_path / "copy.webm",
        decoded(original, size=(160, 120)),
        codec="libvpx-vp9",
        bit_rate=200_000,
    )
    bank = bank_create(name="known-video", verified=True, actor=None, source=AuditSource.CLI)
    bank_add_media(
        bank=bank, data=original.read_bytes(), kind="video", actor=None, source=AuditSource.CLI
    )
    created = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            external_id="vid-1",
            category="other",
            summary="A user report.",
            subjects=[{"platform_id": "user:uploader", "role": "suspect"}],
            content=[{"platform_id": "vid:1", "kind": "video"}],
        ),
    ).json()
    stored = service_api.upload(
        f"/api/v1/content/{created['content'][0]['id']}/media",
        {"file": SimpleUploadedFile("v.webm", copy.read_bytes(), content_type="video/webm")},
    )
    assert stored.status_code == 201

    run_tasks()

    [match] = ContentMatch.objects.filter(signal_type="video")
    assert match.distance <= 20
    assert match.escalation is not None
    assert match.escalation.channel == "automated"


def test_opaque_bytes_uploaded_as_an_image_are_still_matched_exactly(
    service_api: ApiClient,
) -> None:
    hostile = b"<!DOCTYPE html><html><body>an invented known file</body></html>"
    bank = bank_create(name="known-files", verified=True, actor=None, source=AuditSource.CLI)
    bank_import(
        bank=bank,
        text=hashlib.sha256(hostile).hexdigest() + "\n",
        fmt=BankFormat.TEXT,
        signal_type="sha256",
        actor=None,
        source=AuditSource.CLI,
    )
    created = upload(service_api, hostile, 1)

    run_tasks()

    item = ContentItem.objects.get(pk=created["content"][0]["id"])
    assert [m.signal_type for m in ContentMatch.objects.filter(content=item)] == ["sha256"]
    assert Escalation.objects.filter(channel="automated").count() == 1
