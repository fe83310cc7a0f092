"""Law-enforcement endpoints: partners follow their agency's requests and send documents;
legal staff verify, move and answer requests. Requests arrive through intake
(`POST /escalations` with `channel: law_enforcement`) or the portal at /le/."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, BinaryIO, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router
from ninja.responses import Status
from pydantic import BaseModel, Field

from safeguard.accounts.auth import requires
from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.cases.selectors import case_get_for, visible_cases
from safeguard.core.errors import Invalid, NotFound
from safeguard.core.fields import STORABLE, ApiIn, Choice, Timestamp
from safeguard.core.openapi import answers, file_upload
from safeguard.evidence.vault import TooLarge
from safeguard.lawenforcement.directory import directory
from safeguard.lawenforcement.disclosures import (
    approve_without_disclosure,
    disclosure_approve,
    disclosure_download,
    disclosure_prepare,
    disclosure_release,
)
from safeguard.lawenforcement.models import (
    Disclosure,
    LERequest,
    Partner,
    Referral,
    RequestDocument,
)
from safeguard.lawenforcement.referrals import referral_acknowledge, referral_send
from safeguard.lawenforcement.request_types import DataCategory, load_request_types
from safeguard.lawenforcement.selectors import (
    agency_get_for,
    le_request_for_staff,
    le_request_get_for,
    preservation_actions,
    visible_requests,
)
from safeguard.lawenforcement.services import (
    MAX_DOCUMENT_BYTES,
    agency_save,
    le_preservation_extend,
    le_request_classify,
    le_request_determine_emergency,
    le_request_document_add,
    le_request_transition,
    partner_attach,
    requester_unverified,
    verification_record,
)
from safeguard.lawenforcement.workflow import RequestState, RequestTransition

router = Router(tags=["law enforcement"])

_STAFF = requires(Permission.LE_REQUEST_MANAGE)
_READERS = requires(Permission.LE_REQUEST_READ, Permission.LE_REQUEST_SUBMIT)


def _actor(request: HttpRequest) -> User:
    return cast(User, request.auth)  # type: ignore[attr-defined]


class RequestTypeOut(BaseModel):
    key: str
    label: str
    kind: str
    jurisdiction: str
    priority: str
    required_fields: list[str]
    clock: str | None
    scope: str
    citations: list[str]


class DocumentOut(BaseModel):
    id: uuid.UUID
    name: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class RequestOut(BaseModel):
    """What a partner sees of its own request: never the team's notes or determinations."""

    id: uuid.UUID
    reference: str
    request_type: str | None
    agency: str
    state: RequestState
    received_at: datetime
    due_at: datetime | None
    response_note: str
    documents: list[DocumentOut]


class PreservationOut(BaseModel):
    account: str
    status: str
    confirmed_at: datetime | None


class RequestDetailOut(RequestOut):
    """What legal staff see in addition."""

    category: str
    summary: str
    fields: dict[str, str]
    named_accounts: list[str]
    non_disclosure: bool
    case_id: uuid.UUID | None
    requester_unverified: list[str]
    determined_emergency: bool | None
    preserved_until: datetime | None
    preservation_extensions: int
    preservation: list[PreservationOut]
    breached: bool


def _out(request: LERequest) -> RequestOut:
    return RequestOut(
        id=request.pk,
        reference=request.reference,
        request_type=request.request_type or None,
        agency=request.agency.name,
        state=RequestState(request.state),
        received_at=request.received_at,
        due_at=request.due_at,
        response_note=request.response_note,
        documents=[
            DocumentOut(
                id=d.pk,
                name=d.name,
                media_type=d.media_type,
                size=d.size,
                sha256=d.sha256,
                uploaded_at=d.uploaded_at,
            )
            for d in request.documents.all()
        ],
    )


def _detail(request: LERequest) -> RequestDetailOut:
    base = _out(request).model_dump()
    return RequestDetailOut(
        **base,
        category=request.category,
        summary=request.summary,
        fields=request.fields,
        named_accounts=request.named_accounts,
        non_disclosure=request.non_disclosure,
        case_id=request.case_id,
        requester_unverified=requester_unverified(request, now=timezone.now()),
        determined_emergency=request.determined_emergency,
        preserved_until=request.preserved_until,
        preservation_extensions=request.preservation_extensions,
        preservation=[
            PreservationOut(account=a.target_id, status=a.status, confirmed_at=a.confirmed_at)
            for a in preservation_actions(request)
        ],
        breached=request.breached_at is not None,
    )


@router.get(
    "/le/request-types",
    response=answers(list[RequestTypeOut]),
    auth=_READERS,
    summary="The request types: required fields, clock and what each may disclose, with sources",
)
def request_types_list(request: HttpRequest) -> list[RequestTypeOut]:
    return [
        RequestTypeOut(
            key=t.key,
            label=t.label,
            kind=t.kind.value,
            jurisdiction=t.jurisdiction,
            priority=t.priority,
            required_fields=list(t.required_fields),
            clock=(f"{t.clock.amount} {t.clock.unit.value}" if t.clock else None),
            scope=t.scope.value,
            citations=[c.source for c in t.citations],
        )
        for t in load_request_types().values()
    ]


@router.get(
    "/le/requests",
    response=answers(list[RequestOut]),
    auth=_READERS,
    summary="Requests: a partner's own agency's, or (legal staff) all, newest first",
)
def requests_list(
    request: HttpRequest, state: Choice[RequestState] | None = None, limit: int = 50
) -> list[RequestOut]:
    found = visible_requests(_actor(request)).prefetch_related("documents")
    if state is not None:
        found = found.filter(state=state.value)
    return [_out(r) for r in found[: max(1, min(limit, 200))]]


@router.get(
    "/le/requests/{request_id}",
    response=answers({200: RequestDetailOut | RequestOut}),
    auth=_READERS,
    summary="One request (legal staff see the whole record; partners what is meant for them)",
)
def request_detail(request: HttpRequest, request_id: uuid.UUID) -> RequestDetailOut | RequestOut:
    actor = _actor(request)
    found = le_request_get_for(user=actor, request_id=request_id)
    if actor.has_permission(Permission.LE_REQUEST_READ):
        return _detail(found)
    # A partner's view: the same record without the team's side.
    return _out(found)


_UPLOAD_SCHEMA = file_upload()


class DocumentRefused(Invalid):
    pass


@router.post(
    "/le/requests/{request_id}/documents",
    response=answers({201: DocumentOut}, 413, 422),
    auth=requires(Permission.LE_REQUEST_MANAGE, Permission.LE_REQUEST_SUBMIT),
    openapi_extra=_UPLOAD_SCHEMA,
    summary="Attach a legal document (PDF or image, multipart field `file`) to a request",
)
def request_document_add(request: HttpRequest, request_id: uuid.UUID) -> Status[DocumentOut]:
    actor = _actor(request)
    found = le_request_get_for(user=actor, request_id=request_id)
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_DOCUMENT_BYTES + 64 * 1024:
        raise TooLarge(MAX_DOCUMENT_BYTES)
    upload = request.FILES.get("file")
    if upload is None:
        raise DocumentRefused("send the document as multipart/form-data in field 'file'")
    document = le_request_document_add(
        request=found,
        upload=cast(BinaryIO, upload),
        name=upload.name or "document",
        actor=actor,
        source=AuditSource.API,
    )
    return Status(
        201,
        DocumentOut(
            id=document.pk,
            name=document.name,
            media_type=document.media_type,
            size=document.size,
            sha256=document.sha256,
            uploaded_at=document.uploaded_at,
        ),
    )


Note = Annotated[str, Field(max_length=5000), STORABLE]


class TransitionIn(ApiIn):
    transition: Choice[RequestTransition]
    note: Note = ""


@router.post(
    "/le/requests/{request_id}/transitions",
    response=answers({200: RequestDetailOut}, 409, 422),
    auth=_STAFF,
    summary="Move a request (workflow in docs/process/law-enforcement-request.md)",
)
def request_transition(
    request: HttpRequest, request_id: uuid.UUID, payload: TransitionIn
) -> RequestDetailOut:
    actor = _actor(request)
    found = le_request_for_staff(user=actor, request_id=request_id)
    if payload.transition in (RequestTransition.APPROVE, RequestTransition.RESPOND):
        # Those two follow a disclosure's approval and release (four eyes), or record a
        # response that discloses nothing.
        approve_without_disclosure(
            request=found,
            transition=payload.transition,
            actor=actor,
            source=AuditSource.API,
            note=payload.note,
        )
    else:
        le_request_transition(
            request=found,
            transition=payload.transition,
            actor=actor,
            source=AuditSource.API,
            note=payload.note,
        )
    return _detail(le_request_for_staff(user=actor, request_id=request_id))


class ClassifyIn(ApiIn):
    request_type: Annotated[str, Field(min_length=1, max_length=64)]


@router.post(
    "/le/requests/{request_id}/classification",
    response=answers({200: RequestDetailOut}, 422),
    auth=_STAFF,
    summary="Say which instrument an unclassified request is (its clock runs from receipt)",
)
def request_classify(
    request: HttpRequest, request_id: uuid.UUID, payload: ClassifyIn
) -> RequestDetailOut:
    actor = _actor(request)
    found = le_request_for_staff(user=actor, request_id=request_id)
    le_request_classify(
        request=found, request_type_key=payload.request_type, actor=actor, source=AuditSource.API
    )
    return _detail(le_request_for_staff(user=actor, request_id=request_id))


class DeterminationIn(ApiIn):
    emergency: bool
    reasons: Note


@router.post(
    "/le/requests/{request_id}/emergency-determination",
    response=answers({200: RequestDetailOut}, 422),
    auth=_STAFF,
    summary="Record the good-faith emergency determination and its reasons",
)
def request_determine(
    request: HttpRequest, request_id: uuid.UUID, payload: DeterminationIn
) -> RequestDetailOut:
    actor = _actor(request)
    found = le_request_for_staff(user=actor, request_id=request_id)
    le_request_determine_emergency(
        request=found,
        emergency=payload.emergency,
        reasons=payload.reasons,
        actor=actor,
        source=AuditSource.API,
    )
    return _detail(le_request_for_staff(user=actor, request_id=request_id))


class ExtensionIn(ApiIn):
    note: Note = ""


@router.post(
    "/le/requests/{request_id}/preservation-extension",
    response=answers({200: RequestDetailOut}, 409, 422),
    auth=_STAFF,
    summary="Extend a preservation once, on a renewed request",
)
def request_extend(
    request: HttpRequest, request_id: uuid.UUID, payload: ExtensionIn
) -> RequestDetailOut:
    actor = _actor(request)
    found = le_request_for_staff(user=actor, request_id=request_id)
    le_preservation_extend(request=found, actor=actor, source=AuditSource.API, note=payload.note)
    return _detail(le_request_for_staff(user=actor, request_id=request_id))


# --- agencies --------------------------------------------------------------------------------

Line = Annotated[str, Field(min_length=1, max_length=300), STORABLE]


class AgencyIn(ApiIn):
    name: Line
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    jurisdiction: Annotated[str, Field(max_length=100), STORABLE] = ""
    email_domains: Annotated[list[Annotated[str, Field(max_length=253)]], Field(max_length=20)]
    published_phone: Annotated[str, Field(min_length=6, max_length=50)]
    phone_source: Line


class AgencyOut(BaseModel):
    id: uuid.UUID
    name: str
    country: str
    jurisdiction: str
    email_domains: list[str]
    published_phone: str
    phone_source: str


@router.post(
    "/le/agencies",
    response=answers({200: AgencyOut}, 422),
    auth=requires(Permission.LE_AGENCY_MANAGE),
    summary="Create or update an agency (by name): official domains and published number",
)
def agency_create(request: HttpRequest, payload: AgencyIn) -> AgencyOut:
    agency = agency_save(actor=_actor(request), source=AuditSource.API, **payload.model_dump())
    return AgencyOut.model_validate(agency, from_attributes=True)


class VerificationIn(ApiIn):
    partner_username: Annotated[str, Field(min_length=1, max_length=150)] | None = None
    email_domain: Annotated[str, Field(min_length=1, max_length=253)]
    callback_number: Annotated[str, Field(min_length=6, max_length=50)]
    callback_at: Timestamp
    document_id: uuid.UUID
    note: Note = ""


class VerificationOut(BaseModel):
    id: uuid.UUID
    agency_id: uuid.UUID
    partner: str | None
    verified_at: datetime
    expires_at: datetime


class VerificationRefused(Invalid):
    pass


@router.post(
    "/le/agencies/{agency_id}/verifications",
    response=answers({201: VerificationOut}, 422),
    auth=requires(Permission.LE_AGENCY_MANAGE),
    summary="Record a verification checklist of the agency, or of one of its people",
)
def verification_create(
    request: HttpRequest, agency_id: uuid.UUID, payload: VerificationIn
) -> Status[VerificationOut]:
    actor = _actor(request)
    agency = agency_get_for(user=actor, agency_id=agency_id)
    partner: Partner | None = None
    if payload.partner_username:
        partner = Partner.objects.filter(
            user__username=payload.partner_username, agency=agency
        ).first()
        if partner is None:
            raise VerificationRefused(
                f"{payload.partner_username!r} is not a partner of {agency.name}"
            )
    document = RequestDocument.objects.filter(pk=payload.document_id).first()
    if document is None:
        raise VerificationRefused(f"no document {payload.document_id}")
    verification = verification_record(
        actor=actor,
        agency=agency,
        partner=partner,
        email_domain=payload.email_domain,
        callback_number=payload.callback_number,
        callback_at=payload.callback_at,
        document=document,
        note=payload.note,
        source=AuditSource.API,
    )
    return Status(
        201,
        VerificationOut(
            id=verification.pk,
            agency_id=agency.pk,
            partner=partner.user.username if partner else None,
            verified_at=verification.verified_at,
            expires_at=verification.expires_at,
        ),
    )


class PartnerIn(ApiIn):
    username: Annotated[str, Field(min_length=1, max_length=150)]


@router.post(
    "/le/agencies/{agency_id}/partners",
    response=answers({200: AgencyOut}, 422),
    auth=requires(Permission.LE_AGENCY_MANAGE),
    summary="Attach a law-enforcement partner account to the agency",
)
def agency_partner_add(request: HttpRequest, agency_id: uuid.UUID, payload: PartnerIn) -> AgencyOut:
    actor = _actor(request)
    agency = agency_get_for(user=actor, agency_id=agency_id)
    user = User.objects.filter(username=payload.username, is_active=True).first()
    if user is None:
        raise VerificationRefused(f"no active account {payload.username!r}")
    partner_attach(actor=actor, user=user, agency=agency, source=AuditSource.API)
    return AgencyOut.model_validate(agency, from_attributes=True)


# --- disclosures -----------------------------------------------------------------------------


class DisclosureIn(ApiIn):
    categories: Annotated[list[Choice[DataCategory]], Field(min_length=1, max_length=3)]
    media_reason: Note = Field(
        default="", description="a warrant's reason to include media (abuse material)"
    )
    names_revealed: bool = False


class DisclosureOut(BaseModel):
    id: uuid.UUID
    request_id: uuid.UUID
    state: str
    manifest_sha256: str
    files: list[dict[str, str | None]]
    prepared_by: str
    approved_by: str | None
    link_expires_at: datetime | None


class ReleasedOut(DisclosureOut):
    # Shown once: the key goes to the requester by another channel; the link through the
    # portal or the API. Neither is kept.
    decryption_key: str
    download_token: str


def _disclosure_out(d: Disclosure) -> DisclosureOut:
    return DisclosureOut(
        id=d.pk,
        request_id=d.request_id,
        state=d.state,
        manifest_sha256=d.manifest_sha256,
        files=[
            {"path": i["path"], "category": i["category"], "sha256": i["sha256"]} for i in d.items
        ],
        prepared_by=d.prepared_by.username,
        approved_by=d.approved_by.username if d.approved_by else None,
        link_expires_at=d.link_expires_at,
    )


def _disclosure_for(actor: User, disclosure_id: uuid.UUID) -> Disclosure:
    found = (
        Disclosure.objects.select_related("request", "prepared_by", "approved_by")
        .filter(pk=disclosure_id)
        .first()
    )
    if found is None or not actor.has_permission(Permission.LE_DISCLOSURE_MANAGE):
        raise DisclosureNotFound(disclosure_id)
    return found


class DisclosureNotFound(NotFound):
    def __init__(self, disclosure_id: object) -> None:
        super().__init__(f"no disclosure {disclosure_id}")


_DISCLOSERS = requires(Permission.LE_DISCLOSURE_MANAGE)


@router.post(
    "/le/requests/{request_id}/disclosures",
    response=answers({201: DisclosureOut}, 409, 422),
    auth=_DISCLOSERS,
    summary="Prepare a disclosure package (what the legal process allows, nothing more)",
)
def disclosure_create(
    request: HttpRequest, request_id: uuid.UUID, payload: DisclosureIn
) -> Status[DisclosureOut]:
    actor = _actor(request)
    found = le_request_for_staff(user=actor, request_id=request_id)
    disclosure = disclosure_prepare(
        request=found,
        categories=payload.categories,
        actor=actor,
        source=AuditSource.API,
        media_reason=payload.media_reason,
        names_revealed=payload.names_revealed,
    )
    return Status(201, _disclosure_out(disclosure))


@router.post(
    "/le/disclosures/{disclosure_id}/approval",
    response=answers({200: DisclosureOut}, 409, 422),
    auth=_DISCLOSERS,
    summary="Approve a disclosure: a second legal person, never its preparer",
)
def disclosure_approval(request: HttpRequest, disclosure_id: uuid.UUID) -> DisclosureOut:
    actor = _actor(request)
    approved = disclosure_approve(
        disclosure=_disclosure_for(actor, disclosure_id), actor=actor, source=AuditSource.API
    )
    return _disclosure_out(_disclosure_for(actor, approved.pk))


@router.post(
    "/le/disclosures/{disclosure_id}/release",
    response=answers({200: ReleasedOut}, 409, 422),
    auth=_DISCLOSERS,
    summary="Release an approved disclosure: encrypted, with a one-time download link",
)
def disclosure_release_api(request: HttpRequest, disclosure_id: uuid.UUID) -> ReleasedOut:
    actor = _actor(request)
    released = disclosure_release(
        disclosure=_disclosure_for(actor, disclosure_id), actor=actor, source=AuditSource.API
    )
    return ReleasedOut(
        **_disclosure_out(_disclosure_for(actor, released.disclosure.pk)).model_dump(),
        decryption_key=released.key,
        download_token=released.link_token,
    )


class DownloadIn(ApiIn):
    token: Annotated[str, Field(min_length=20, max_length=100)]


@router.post(
    "/le/disclosures/download",
    response=answers({200: None}, 404, 422),
    auth=requires(Permission.LE_DISCLOSURE_DOWNLOAD),
    summary="Download a released package once (encrypted; the key came by another channel)",
    openapi_extra={
        "responses": {
            200: {
                "description": "the encrypted package",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def disclosure_download_api(request: HttpRequest, payload: DownloadIn) -> HttpResponse:
    disclosure, data = disclosure_download(
        token=payload.token, actor=_actor(request), source=AuditSource.API
    )
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = (
        f'attachment; filename="{disclosure.request.reference}-disclosure.zip.sgenc"'
    )
    response["Cache-Control"] = "no-store"
    return response


# --- outbound referrals ----------------------------------------------------------------------


class DirectoryAgencyOut(BaseModel):
    key: str
    country: str
    name: str
    channel: str
    address: str
    hours: str
    source: str


class DirectoryOut(BaseModel):
    version: str
    agencies: list[DirectoryAgencyOut]


@router.get(
    "/le/directory",
    response=answers(DirectoryOut),
    auth=requires(Permission.LE_REFERRAL_CREATE, Permission.LE_REQUEST_READ),
    summary="The agency directory for emergency referrals (optionally one country's)",
)
def directory_list(
    request: HttpRequest, country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
) -> DirectoryOut:
    book = directory(settings.SAFEGUARD_LE_DIRECTORY)
    agencies = book.for_country(country) if country else list(book.agencies)
    return DirectoryOut(
        version=book.version,
        agencies=[
            DirectoryAgencyOut(**{**a.__dict__, "channel": a.channel.value}) for a in agencies
        ],
    )


class ReferralIn(ApiIn):
    agency_key: Annotated[str, Field(min_length=1, max_length=64)]
    reason: Note
    dsa_article_18: bool = False


class ReferralOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    agency_key: str
    agency_name: str
    channel: str
    address: str
    directory_version: str
    sent_by: str
    sent_at: datetime
    ack_due_at: datetime
    acknowledged_at: datetime | None
    agency_reference: str
    dsa_article_18: bool
    summary: dict[str, object]


def _referral_out(r: Referral) -> ReferralOut:
    return ReferralOut(
        id=r.pk,
        case_id=r.case_id,
        agency_key=r.agency_key,
        agency_name=r.agency_name,
        channel=r.channel,
        address=r.address,
        directory_version=r.directory_version,
        sent_by=r.sent_by.username,
        sent_at=r.sent_at,
        ack_due_at=r.ack_due_at,
        acknowledged_at=r.acknowledged_at,
        agency_reference=r.agency_reference,
        dsa_article_18=r.dsa_article_18,
        summary=r.summary,
    )


_REFERRERS = requires(Permission.LE_REFERRAL_CREATE)


@router.post(
    "/cases/{case_id}/referrals",
    response=answers({201: ReferralOut}, 422),
    auth=_REFERRERS,
    summary="Refer the case's child in imminent danger to an agency of the directory",
)
def referral_create(
    request: HttpRequest, case_id: uuid.UUID, payload: ReferralIn
) -> Status[ReferralOut]:
    actor = _actor(request)
    case = case_get_for(user=actor, case_id=case_id)
    referral = referral_send(
        case=case,
        agency_key=payload.agency_key,
        reason=payload.reason,
        dsa_article_18=payload.dsa_article_18,
        actor=actor,
        source=AuditSource.API,
    )
    return Status(201, _referral_out(referral))


@router.get(
    "/cases/{case_id}/referrals",
    response=answers(list[ReferralOut]),
    auth=_REFERRERS,
    summary="The case's referrals, newest first",
)
def referral_list(request: HttpRequest, case_id: uuid.UUID) -> list[ReferralOut]:
    case = case_get_for(user=_actor(request), case_id=case_id)
    return [_referral_out(r) for r in case.referrals.select_related("sent_by")]


class AcknowledgementIn(ApiIn):
    agency_reference: Annotated[str, Field(min_length=1, max_length=200), STORABLE]


class ReferralNotFound(NotFound):
    def __init__(self, referral_id: object) -> None:
        super().__init__(f"no referral {referral_id}")


@router.post(
    "/le/referrals/{referral_id}/acknowledgement",
    response=answers({200: ReferralOut}, 409, 422),
    auth=_REFERRERS,
    summary="Record the agency's acknowledgement and its reference number",
)
def referral_ack(
    request: HttpRequest, referral_id: uuid.UUID, payload: AcknowledgementIn
) -> ReferralOut:
    actor = _actor(request)
    referral = (
        Referral.objects.select_related("sent_by")
        .filter(pk=referral_id, case__in=visible_cases(actor))
        .first()
    )
    if referral is None:
        raise ReferralNotFound(referral_id)
    done = referral_acknowledge(
        referral=referral,
        agency_reference=payload.agency_reference,
        actor=actor,
        source=AuditSource.API,
    )
    return _referral_out(Referral.objects.select_related("sent_by").get(pk=done.pk))
