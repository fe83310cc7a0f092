"""Agencies, partners, verified requesters and requests for the law-enforcement tests."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

from django.utils import timezone
from PIL import Image

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.accounts.services import api_token_create
from safeguard.audit.events import AuditSource
from safeguard.lawenforcement.models import Agency, LERequest, Partner, RequestDocument
from safeguard.lawenforcement.services import (
    agency_save,
    le_request_document_add,
    partner_attach,
    verification_record,
)
from tests.conftest import ApiClient
from tests.factories import UserFactory

PHONE = "+1 555 0100 200"
DOMAIN = "sheriff.example"


def legal(name: str | None = None) -> User:
    return UserFactory(role=Role.LEGAL.value, **({"username": name} if name else {}))


def agency(
    actor: User | None = None,
    *,
    name: str = "Example County Sheriff (fictional)",
    country: str = "US",
) -> Agency:
    return agency_save(
        actor=actor or legal(),
        name=name,
        country=country,
        jurisdiction="county",
        email_domains=[DOMAIN],
        published_phone=PHONE,
        phone_source="the agency's public website (fictional)",
        source=AuditSource.API,
    )


def partner(agency_: Agency, *, actor: User | None = None) -> Partner:
    user = UserFactory(role=Role.LE_PARTNER.value, email=f"{uuid.uuid4().hex[:6]}@{DOMAIN}")
    return partner_attach(actor=actor or legal(), user=user, agency=agency_, source=AuditSource.API)


def partner_api(partner_: Partner) -> ApiClient:
    token = api_token_create(user=partner_.user, name="t", actor=None, source=AuditSource.CLI)
    return ApiClient(partner_.user, token.plaintext)


def pdf_bytes() -> bytes:
    # A tiny, valid one-page PDF written out by hand (synthetic: a blank page).
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (40, 120, 200)).save(out, "PNG")
    return out.getvalue()


def document(request: LERequest, actor: User, data: bytes | None = None) -> RequestDocument:
    return le_request_document_add(
        request=request,
        upload=io.BytesIO(data or pdf_bytes()),
        name="order.pdf",
        actor=actor,
        source=AuditSource.API,
    )


def verify(request: LERequest, actor: User) -> None:
    """Record the agency's and the partner's verification checklists for `request`."""
    doc = request.documents.first() or document(request, actor)
    now = timezone.now() - timedelta(minutes=1)
    for who in (None, request.partner):
        verification_record(
            actor=actor,
            agency=request.agency,
            partner=who,
            email_domain=DOMAIN,
            callback_number=PHONE,
            callback_at=now,
            document=doc,
            note="called back the duty desk",
            source=AuditSource.API,
        )


def le_block(**overrides: Any) -> dict[str, Any]:
    block: dict[str, Any] = {
        "agency": "Example County Sheriff (fictional)",
        "country": "US",
        "request_type": "emergency_disclosure",
        "contact": f"duty@{DOMAIN}",
    }
    block.update(overrides)
    return block
