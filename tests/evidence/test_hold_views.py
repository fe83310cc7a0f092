"""The legal-holds console page: what is held and why, placing and releasing holds, a deletion
refused under a hold (and what the refusal says), and destruction with a second approver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from safeguard.accounts.models import User
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.evidence.models import ContentTombstone, DestructionRequest, LegalHold
from tests.audit_helpers import assert_audited, assert_not_audited
from tests.evidence.factories_holds import hold_on, image_item, legal, vault_files
from tests.factories import UserFactory

Capture = Callable[..., Any]
MakeClient = Callable[[User], Client]


@pytest.fixture
def lawyer() -> User:
    return legal()


@pytest.fixture
def console(verified_client: MakeClient, lawyer: User) -> Client:
    return verified_client(lawyer)


def test_the_page_shows_each_hold_in_force_with_why_and_until_when(console: Client) -> None:
    item = image_item()
    hold = hold_on(item, reason="Preservation for the Example Police (fictional)")
    hold_on(image_item(), days=None, reason="Litigation (fictional)")

    response = console.get("/holds/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Holds in force (2)" in page
    assert "Preservation for the Example Police (fictional)" in page
    assert str(hold.target_id) in page
    assert "LE-REQ-0001" in page
    assert "no end date" in page
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_page_lists_many_holds_in_a_bounded_number_of_queries(console: Client) -> None:
    for _ in range(3):
        hold_on(image_item())
    with CaptureQueriesContext(connection) as few:
        console.get("/holds/")
    for _ in range(6):
        hold_on(image_item())
    with CaptureQueriesContext(connection) as many:
        console.get("/holds/")
    assert len(many) == len(few)


def test_a_specialist_cannot_open_the_page(verified_client: MakeClient) -> None:
    client = verified_client(UserFactory(role="specialist"))
    assert client.get("/holds/").status_code == 403


def test_placing_and_releasing_a_hold_from_the_console(console: Client, lawyer: User) -> None:
    item = image_item()
    placed = console.post(
        "/holds/place",
        {
            "target_type": "content",
            "target_id": str(item.pk),
            "reason": "Manual hold pending advice (fictional)",
            "source": "manual",
            "ends_at": "",
        },
        follow=True,
    )
    assert "Hold placed" in placed.content.decode()
    hold = LegalHold.objects.get()
    assert_audited(
        AuditEventType.LEGAL_HOLD_PLACED,
        target=("legal_hold", hold.pk),
        actor=lawyer,
        source=AuditSource.CONSOLE,
    )

    empty = console.post(f"/holds/{hold.pk}/release", {"reason": ""}, follow=True)
    assert "Hold not released: release reason is required" in empty.content.decode()
    console.post(f"/holds/{hold.pk}/release", {"reason": "advice received"})
    hold.refresh_from_db()
    assert hold.released_by == lawyer


def test_a_bad_end_date_is_refused_with_the_reason(console: Client) -> None:
    item = image_item()
    response = console.post(
        "/holds/place",
        {
            "target_type": "content",
            "target_id": str(item.pk),
            "reason": "x",
            "source": "manual",
            "ends_at": "2020-01-01T00:00",
        },
        follow=True,
    )
    assert "Hold not placed" in response.content.decode()
    assert "is not in the future" in response.content.decode()
    assert not LegalHold.objects.exists()


def test_deleting_held_content_from_the_console_explains_the_refusal(
    console: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    item = image_item()
    hold = hold_on(item, reason="Preservation for the Example Police (fictional)")

    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(
            "/holds/delete",
            {"content_id": str(item.pk), "parts": "media text", "reason": "tidy"},
            follow=True,
        )

    page = response.content.decode()
    assert f"Not deleted — content <code>{item.pk}</code> is under legal hold." in page
    assert str(hold.pk) in page
    assert "Preservation for the Example Police (fictional)" in page
    assert "must first be released" in page
    assert item.blob_id in vault_files()
    assert not ContentTombstone.objects.exists()
    assert_not_audited(AuditEventType.CONTENT_DELETED)


def test_deleting_unheld_content_from_the_console(
    console: Client, lawyer: User, django_capture_on_commit_callbacks: Capture
) -> None:
    item = image_item()
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(
            "/holds/delete",
            {"content_id": str(item.pk), "parts": "media", "reason": "no case"},
            follow=True,
        )
    assert f"Deleted from content {item.pk}" in response.content.decode()
    assert item.blob_id not in vault_files()
    assert_audited(
        AuditEventType.CONTENT_DELETED, target=item, actor=lawyer, source=AuditSource.CONSOLE
    )


def test_destruction_from_the_console_needs_a_second_legal_person(
    console: Client,
    lawyer: User,
    verified_client: MakeClient,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    item = image_item()
    hold_on(item)
    console.post(
        "/holds/destructions",
        {
            "content_ids": str(item.pk),
            "request_reference": "EXPD-7 (fictional)",
            "agency": "Example Police (fictional)",
            "reason": "destroy on request",
        },
    )
    request = DestructionRequest.objects.get()
    assert_audited(
        AuditEventType.DESTRUCTION_REQUESTED,
        target=("destruction", request.pk),
        actor=lawyer,
        source=AuditSource.CONSOLE,
    )
    page = console.get("/holds/").content.decode()
    assert "You recorded this: a different legal person must approve it." in page

    own = console.post(f"/holds/destructions/{request.pk}/approve", follow=True)
    assert "Not approved, nothing destroyed" in own.content.decode()
    assert item.blob_id in vault_files()

    second = legal()
    with django_capture_on_commit_callbacks(execute=True):
        done = verified_client(second).post(
            f"/holds/destructions/{request.pk}/approve", follow=True
        )
    assert "1 item(s) destroyed permanently" in done.content.decode()
    assert item.blob_id not in vault_files()
    assert_audited(
        AuditEventType.DESTRUCTION_APPROVED,
        target=("destruction", request.pk),
        actor=second,
        source=AuditSource.CONSOLE,
    )
