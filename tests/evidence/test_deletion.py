"""Deleting stored evidence: the vault's clearance, a person's deletion (service and CLI), the
tombstone and its hash-only audit, shared bytes, and destruction on a lawful request with a
second legal approver, the one path that overrides a hold."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.config.demo import pattern_png
from safeguard.core.errors import Conflict, Forbidden, Invalid
from safeguard.evidence import deletion, holds
from safeguard.evidence.deletion import ContentPart, content_delete
from safeguard.evidence.models import (
    Blob,
    ContentItem,
    ContentTombstone,
    DeletionKind,
    DestructionRequest,
)
from safeguard.evidence.services import content_media_store
from safeguard.evidence.store import vault
from safeguard.evidence.vault import NotCleared
from tests.audit_helpers import assert_audited, assert_not_audited, last_event_id
from tests.evidence.factories_holds import (
    hold_on,
    image_item,
    legal,
    thread_item,
    vault_files,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def _state() -> tuple[int, int, int, set[str]]:
    return (
        ContentTombstone.objects.count(),
        Blob.objects.count(),
        AuditEvent.objects.count(),
        vault_files(),
    )


# --- (a) the vault ----------------------------------------------------------------------------


def test_the_vault_deletes_nothing_without_a_clearance_from_the_hold_check() -> None:
    item = image_item()
    sha = item.blob_id
    assert sha is not None
    store = vault()

    with pytest.raises(TypeError):
        store.delete(sha)  # type: ignore[call-arg]
    with pytest.raises(NotCleared, match="needs a clearance from the hold check"):
        store.delete(sha, clearance=object())  # type: ignore[arg-type]
    other = holds.deletion_clearance(content_ids=[], addresses=["f" * 64], now=timezone.now())
    with pytest.raises(NotCleared, match="does not name this object"):
        store.delete(sha, clearance=other)

    assert hashlib.sha256(store.read(sha)).hexdigest() == sha  # still there, intact
    assert sha in vault_files()


def test_the_hold_check_issues_no_clearance_for_held_bytes_and_they_stay() -> None:
    item = image_item()
    hold_on(item)
    with pytest.raises(holds.ContentHeld):
        holds.deletion_clearance(
            content_ids=[item.pk], addresses=[item.blob_id or ""], now=timezone.now()
        )
    assert item.blob_id in vault_files()


def test_a_clearance_deletes_each_address_once() -> None:
    item = image_item(renditions=False)
    sha = item.blob_id or ""
    clearance = holds.deletion_clearance(content_ids=[item.pk], addresses=[sha], now=timezone.now())
    assert vault().delete(sha, clearance=clearance) is True
    with pytest.raises(NotCleared, match="already used"):
        vault().delete(sha, clearance=clearance)


# --- the service (every path calls it) --------------------------------------------------------


def test_deleting_unheld_media_removes_bytes_and_renditions_and_keeps_a_tombstone(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    item = image_item()
    blob = item.blob
    assert blob is not None
    addresses = {blob.sha256, blob.thumbnail_sha256, blob.display_sha256}
    assert addresses <= vault_files()
    lawyer = legal()

    with django_capture_on_commit_callbacks(execute=True):
        tombstone = content_delete(
            content_id=item.pk,
            reason="Duplicate upload, no case (fictional)",
            actor=lawyer,
            source=AuditSource.API,
        )

    item.refresh_from_db()
    assert item.blob_id is None
    assert ContentItem.objects.filter(pk=item.pk).exists()
    assert not addresses & vault_files()
    assert not Blob.objects.filter(pk=blob.sha256).exists()
    assert (tombstone.kind, tombstone.deleted_by, tombstone.media_sha256) == (
        DeletionKind.MANUAL,
        lawyer,
        blob.sha256,
    )
    assert set(tombstone.vault_removed) == addresses
    event = assert_audited(
        AuditEventType.CONTENT_DELETED,
        target=item,
        actor=lawyer,
        source=AuditSource.API,
        data={
            "kind": "manual",
            "media_sha256": blob.sha256,
            "text_sha256": "",
            "reason": "Duplicate upload, no case (fictional)",
        },
    )
    assert set(event.data["vault_removed"]) == addresses


def test_deleting_held_content_is_refused_naming_the_hold_and_changes_nothing(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    item = image_item()
    hold = hold_on(item, reason="Preservation for the Example Police (fictional)")
    before = _state()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(holds.ContentHeld) as err:
        content_delete(content_id=item.pk, reason="tidy", actor=legal(), source=AuditSource.CLI)

    assert str(hold.pk) in str(err.value)
    assert "Preservation for the Example Police (fictional)" in str(err.value)
    assert err.value.status == 409
    assert _state() == before
    item.refresh_from_db()
    assert item.blob_id is not None
    assert vault().read(item.blob_id)
    assert_not_audited(AuditEventType.CONTENT_DELETED)


def test_a_message_threads_text_is_deleted_and_recorded_as_its_hash(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    item = thread_item(text="where do you go to school?")
    digest = hashlib.sha256(b"where do you go to school?").hexdigest()
    with django_capture_on_commit_callbacks(execute=True):
        content_delete(
            content_id=item.pk,
            reason="no case",
            parts=frozenset({ContentPart.TEXT}),
            actor=legal(),
            source=AuditSource.API,
        )
    item.refresh_from_db()
    assert item.text == ""
    event = assert_audited(
        AuditEventType.CONTENT_DELETED, target=item, data={"text_sha256": digest}
    )
    assert "school" not in str(event.data)


def test_shared_bytes_stay_while_another_item_references_them(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    first = image_item()
    assert first.blob is not None
    second = image_item(blob=first.blob)
    hold_on(second)

    with django_capture_on_commit_callbacks(execute=True):
        tombstone = content_delete(
            content_id=first.pk, reason="not needed", actor=legal(), source=AuditSource.API
        )

    assert tombstone.vault_removed == []
    assert first.blob.sha256 in vault_files()
    assert first.blob.thumbnail_sha256 in vault_files()
    assert Blob.objects.filter(pk=first.blob.sha256).exists()
    second.refresh_from_db()
    assert vault().read(second.blob_id or "")


def test_a_rendition_another_blob_also_uses_is_kept(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    item = image_item()
    blob = item.blob
    assert blob is not None
    other = image_item()
    assert other.blob is not None
    Blob.objects.filter(pk=other.blob.sha256).update(thumbnail_sha256=blob.thumbnail_sha256)

    with django_capture_on_commit_callbacks(execute=True):
        tombstone = content_delete(
            content_id=item.pk, reason="x", actor=legal(), source=AuditSource.API
        )

    assert set(tombstone.vault_removed) == {blob.sha256, blob.display_sha256}
    assert blob.thumbnail_sha256 in vault_files()


@pytest.mark.parametrize(
    ("role", "reason", "error", "words"),
    [
        ("specialist", "x", Forbidden, "lacks evidence:content:delete"),
        ("legal", " ", Invalid, "reason is required"),
    ],
)
def test_a_deletion_without_permission_or_reason_changes_nothing(
    role: str, reason: str, error: type[Exception], words: str
) -> None:
    item = image_item()
    before = _state()
    with pytest.raises(error, match=words):
        content_delete(
            content_id=item.pk,
            reason=reason,
            actor=UserFactory(role=role),
            source=AuditSource.API,
        )
    assert _state() == before


def test_deleting_what_is_already_gone_is_a_conflict() -> None:
    item = thread_item(text="")
    with pytest.raises(Conflict, match="has no stored media or text"):
        content_delete(content_id=item.pk, reason="x", actor=legal(), source=AuditSource.API)


# --- (d) the CLI ------------------------------------------------------------------------------


def test_the_cli_deletes_unheld_content_in_the_named_persons_name(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    item = image_item()
    lawyer = legal()
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "evidence",
            "delete",
            str(item.pk),
            "--reason",
            "no case",
            "--by",
            lawyer.username,
            stdout=out,
        )
    assert f"media sha256 {item.blob_id}" in out.getvalue()
    assert item.blob_id not in vault_files()
    assert_audited(
        AuditEventType.CONTENT_DELETED, target=item, actor=lawyer, source=AuditSource.CLI
    )


def test_the_cli_refuses_held_content_and_leaves_the_bytes(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    item = image_item()
    hold = hold_on(item)
    before = _state()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(CommandError) as err:
        call_command("evidence", "delete", str(item.pk), "--reason", "x", "--by", legal().username)
    assert "refused, nothing deleted" in str(err.value)
    assert str(hold.pk) in str(err.value)
    assert _state() == before
    assert item.blob_id in vault_files()


def test_the_cli_places_lists_and_releases_holds() -> None:
    item = image_item()
    lawyer = legal()
    out = io.StringIO()
    call_command(
        "evidence",
        "hold",
        "content",
        str(item.pk),
        "--reason",
        "manual hold",
        "--by",
        lawyer.username,
        stdout=out,
    )
    hold = holds.LegalHold.objects.get()
    assert f"placed hold {hold.pk}" in out.getvalue()
    listing = io.StringIO()
    call_command("evidence", "holds", "--content", str(item.pk), stdout=listing)
    assert f"[in force] hold {hold.pk}" in listing.getvalue()
    call_command(
        "evidence",
        "release",
        str(hold.pk),
        "--reason",
        "done",
        "--by",
        lawyer.username,
        stdout=io.StringIO(),
    )
    assert_audited(
        AuditEventType.LEGAL_HOLD_RELEASED, target=("legal_hold", hold.pk), source=AuditSource.CLI
    )
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("evidence", "delete", str(item.pk), "--reason", "x", "--by", "nobody")


# --- destruction on a lawful request ----------------------------------------------------------


def _destruction(items: list[ContentItem], by: Any) -> DestructionRequest:
    return deletion.destruction_request_record(
        content_ids=[i.pk for i in items],
        request_reference="EXPD-2026-117 (fictional)",
        agency="Example Police Department (fictional)",
        reason="The agency asks that the reported depictions be destroyed",
        actor=by,
        source=AuditSource.CONSOLE,
    )


def test_destruction_needs_a_second_legal_person_and_then_overrides_the_hold(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    item = image_item()
    blob = item.blob
    assert blob is not None
    hold = hold_on(item)
    recorder, approver = legal(), legal()

    request = _destruction([item], recorder)
    assert_audited(
        AuditEventType.DESTRUCTION_REQUESTED,
        target=("destruction", request.pk),
        actor=recorder,
        source=AuditSource.CONSOLE,
        data={
            "request_reference": "EXPD-2026-117 (fictional)",
            "agency": "Example Police Department (fictional)",
            "content": [str(item.pk)],
            "held": {str(item.pk): [str(hold.pk)]},
        },
    )
    assert blob.sha256 in vault_files()  # recorded, not yet destroyed
    before = _state()

    with pytest.raises(Forbidden, match="cannot also approve it"):
        deletion.destruction_approve(request=request, actor=recorder, source=AuditSource.CONSOLE)
    assert _state() == before
    request.refresh_from_db()
    assert request.approved_at is None

    after = last_event_id()
    with django_capture_on_commit_callbacks(execute=True):
        [tombstone] = deletion.destruction_approve(
            request=request, actor=approver, source=AuditSource.CONSOLE
        )

    assert not {blob.sha256, blob.thumbnail_sha256, blob.display_sha256} & vault_files()
    assert tombstone.kind == DeletionKind.DESTRUCTION
    assert tombstone.destruction == request
    assert_audited(
        AuditEventType.DESTRUCTION_APPROVED,
        target=("destruction", request.pk),
        actor=approver,
        after=after,
        data={"destroyed": [str(item.pk)], "overrode_holds": [str(hold.pk)]},
    )
    assert_audited(
        AuditEventType.CONTENT_DELETED,
        target=item,
        actor=approver,
        after=after,
        data={
            "kind": "destruction",
            "media_sha256": blob.sha256,
            "destruction": str(request.pk),
            "overrode_holds": [str(hold.pk)],
        },
    )
    with pytest.raises(Conflict, match="already approved"):
        deletion.destruction_approve(request=request, actor=legal(), source=AuditSource.API)
    # Destroyed bytes are not taken back from the platform.
    with pytest.raises(Conflict, match="destroyed on a lawful request"):
        content_media_store(
            content=ContentItem.objects.get(pk=item.pk),
            upload=io.BytesIO(b"any bytes"),
            declared_type="image/png",
            actor=approver,
            source=AuditSource.API,
        )


def test_an_unapproved_destruction_clears_nothing() -> None:
    item = image_item()
    request = _destruction([item], legal())
    with pytest.raises(holds.DestructionNotApproved):
        holds.destruction_clearance(request=request, addresses=[item.blob_id or ""])


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"agency": ""}, "agency is required"),
        ({"request_reference": " "}, "request_reference is required"),
        ({"content_ids": []}, "at least one content item"),
        ({"content_ids": "missing"}, "no content"),
    ],
)
def test_a_destruction_request_missing_its_record_is_refused(
    changes: dict[str, Any], words: str
) -> None:
    item = image_item()
    arguments: dict[str, Any] = {
        "content_ids": [item.pk],
        "request_reference": "R-1",
        "agency": "Example Police (fictional)",
        "reason": "destroy",
        "actor": legal(),
        "source": AuditSource.API,
    }
    arguments.update(changes)
    if changes.get("content_ids") == "missing":
        arguments["content_ids"] = [uuid.uuid4()]
    with pytest.raises(Invalid, match=words):
        deletion.destruction_request_record(**arguments)
    assert not DestructionRequest.objects.exists()
    assert_not_audited(AuditEventType.DESTRUCTION_REQUESTED)


def test_only_legal_staff_record_destructions() -> None:
    with pytest.raises(Forbidden, match="lacks evidence:content:destroy"):
        _destruction([image_item()], UserFactory(role="lead"))


def test_the_sweep_removes_files_a_committed_deletion_left_behind(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    item = image_item(renditions=False)
    sha = item.blob_id or ""
    # The deletion commits, but its unlink never runs (a crash after the commit).
    content_delete(content_id=item.pk, reason="x", actor=legal(), source=AuditSource.API)
    assert sha in vault_files()
    path = vault().path(sha)
    old = timezone.now().timestamp() - deletion.SWEEP_MIN_AGE_SECONDS - 60
    os.utime(path, (old, old))
    with django_capture_on_commit_callbacks(execute=True):
        assert deletion.vault_sweep() == 1
    assert sha not in vault_files()


def test_the_sweep_never_touches_bytes_a_blob_references() -> None:
    item = image_item(data=pattern_png("checkerboard", 77))
    assert deletion.vault_sweep() == 0
    assert item.blob_id in vault_files()
