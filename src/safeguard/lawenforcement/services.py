"""Writes for law enforcement: agencies and verification, requests from intake to response,
their clocks, preservation holds and non-disclosure orders."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.actions.services import action_request
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.decisions import ActionKind
from safeguard.cases.models import Case
from safeguard.core.errors import Conflict, Forbidden, Invalid
from safeguard.core.tasks import enqueue
from safeguard.evidence import holds
from safeguard.evidence.models import LegalHold
from safeguard.evidence.sniff import sniff
from safeguard.evidence.store import vault
from safeguard.intake.enums import Channel
from safeguard.intake.models import Escalation, Subject
from safeguard.lawenforcement import tasks
from safeguard.lawenforcement.clocks import due_at, warn_at
from safeguard.lawenforcement.models import (
    Agency,
    LERequest,
    NamedAccount,
    Partner,
    RequestDocument,
    Verification,
)
from safeguard.lawenforcement.request_types import (
    FIELDS,
    Preservation,
    RequestType,
    RequestTypeError,
    hold_ends_at,
    request_type,
)
from safeguard.lawenforcement.selectors import partner_of
from safeguard.lawenforcement.workflow import (
    OPEN_STATES,
    RequestState,
    RequestTransition,
    next_state,
)
from safeguard.rota.models import PageKind
from safeguard.rota.oncall import oncall_lead
from safeguard.rota.services import page_notice


class LERequestError(Invalid):
    """A request, verification or document that cannot be accepted; the message says why."""


class NotLegalStaff(Forbidden):
    pass


class PreservationError(Conflict):
    pass


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# Legal documents are PDFs or images (a scan, a photo of a faxed order), nothing else.
_DOCUMENT_TYPES = ("application/pdf", "image/")
MAX_DOCUMENT_BYTES = 25 * 1024 * 1024


def _require(actor: User, permission: Permission, what: str) -> None:
    if not actor.has_permission(permission):
        raise NotLegalStaff(f"{actor.username} may not {what}")


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


# --- agencies, partners and verification ---------------------------------------------------


@transaction.atomic
def agency_save(
    *,
    actor: User,
    name: str,
    country: str,
    jurisdiction: str,
    email_domains: Sequence[str],
    published_phone: str,
    phone_source: str,
    source: AuditSource,
) -> Agency:
    """Create or update an agency by name: its official e-mail domains and the published number
    legal staff call back, with where that number was published."""
    _require(actor, Permission.LE_AGENCY_MANAGE, "manage agencies")
    name, country = name.strip(), country.strip().upper()
    domains = sorted({d.strip().lower() for d in email_domains if d.strip()})
    bad = [d for d in domains if not _DOMAIN.match(d)]
    if not name or len(name) > 300:
        raise LERequestError("an agency needs a name of 1 to 300 characters")
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise LERequestError(f"country {country!r} is not an ISO 3166 two-letter code")
    if bad:
        raise LERequestError(f"not an e-mail domain: {', '.join(bad)}")
    if len(_digits(published_phone)) < 6 or not phone_source.strip():
        raise LERequestError(
            "a published phone number (at least 6 digits) and where it was published are "
            "needed: call-backs go only to a number the requester did not give"
        )
    agency, created = Agency.objects.update_or_create(
        name=name,
        defaults={
            "country": country,
            "jurisdiction": jurisdiction.strip()[:100],
            "email_domains": domains,
            "published_phone": published_phone.strip()[:50],
            "phone_source": phone_source.strip()[:300],
        },
        create_defaults={
            "country": country,
            "jurisdiction": jurisdiction.strip()[:100],
            "email_domains": domains,
            "published_phone": published_phone.strip()[:50],
            "phone_source": phone_source.strip()[:300],
            "created_at": timezone.now(),
        },
    )
    audit_record(
        event_type=AuditEventType.LE_AGENCY_SAVED,
        actor=actor,
        source=source,
        target_type="le_agency",
        target_id=agency.pk,
        data={
            "created": created,
            "name": agency.name,
            "country": agency.country,
            "email_domains": domains,
            "published_phone": agency.published_phone,
        },
    )
    return agency


@transaction.atomic
def partner_attach(*, actor: User, user: User, agency: Agency, source: AuditSource) -> Partner:
    """Make `user` (a law-enforcement partner account) a member of `agency`."""
    _require(actor, Permission.LE_AGENCY_MANAGE, "attach partners to agencies")
    if not user.has_permission(Permission.LE_REQUEST_SUBMIT):
        raise LERequestError(f"{user.username} is not a law-enforcement partner account")
    partner, _ = Partner.objects.update_or_create(user=user, defaults={"agency": agency})
    audit_record(
        event_type=AuditEventType.LE_AGENCY_SAVED,
        actor=actor,
        source=source,
        target_type="le_agency",
        target_id=agency.pk,
        data={"partner": user.pk, "attached": True},
    )
    return partner


def requester_unverified(request: LERequest, *, now: datetime) -> list[str]:
    """What is missing before anything may be disclosed to the request's requester: an
    unexpired verification of the agency and, for a partner's request, of the person."""
    return requesters_unverified([request], now=now)[request.pk]


def requesters_unverified(
    requests: Sequence[LERequest], *, now: datetime
) -> dict[uuid.UUID, list[str]]:
    """`requester_unverified` for many requests in one query (a queue page of hundreds)."""
    rows = Verification.objects.filter(
        agency_id__in={r.agency_id for r in requests}, expires_at__gt=now
    ).values_list("agency_id", "partner_id")
    agencies_ok: set[uuid.UUID] = set()
    people_ok: set[tuple[uuid.UUID, int]] = set()
    for agency_id, partner_id in rows:
        if partner_id is None:
            agencies_ok.add(agency_id)
        else:
            people_ok.add((agency_id, partner_id))
    missing: dict[uuid.UUID, list[str]] = {}
    for request in requests:
        found = []
        if request.agency_id not in agencies_ok:
            found.append(f"the agency {request.agency.name} is not verified (or it expired)")
        if request.partner is not None and (request.agency_id, request.partner_id) not in people_ok:
            found.append(
                f"the requester {request.partner.user.username} is not verified (or it expired)"
            )
        missing[request.pk] = found
    return missing


@transaction.atomic
def verification_record(
    *,
    actor: User,
    agency: Agency,
    partner: Partner | None,
    email_domain: str,
    callback_number: str,
    callback_at: datetime,
    document: RequestDocument,
    note: str,
    source: AuditSource,
) -> Verification:
    """Record the checklist for an agency (partner None) or one of its people. Each item is
    checked against what Safeguard knows: the domain is one of the agency's and, for a person,
    the one their account's e-mail is on; the number called is the agency's published one; the
    document reviewed belongs to a request of this agency."""
    _require(actor, Permission.LE_AGENCY_MANAGE, "verify agencies and their people")
    now = timezone.now()
    domain = email_domain.strip().lower()
    if domain not in agency.email_domains:
        raise LERequestError(
            f"{domain!r} is not an official e-mail domain of {agency.name} "
            f"(its domains: {', '.join(agency.email_domains) or 'none recorded'})"
        )
    if partner is not None:
        if partner.agency_id != agency.pk:
            raise LERequestError(f"{partner.user.username} does not belong to {agency.name}")
        address = (partner.user.email or "").lower()
        if not address.endswith("@" + domain):
            raise LERequestError(
                f"{partner.user.username}'s e-mail {address or '(none)'} is not on {domain}"
            )
    if not agency.published_phone or _digits(callback_number) != _digits(agency.published_phone):
        raise LERequestError(
            f"the call-back must go to {agency.name}'s published number "
            f"({agency.published_phone or 'none recorded'}), not {callback_number!r}"
        )
    if callback_at > now + timedelta(minutes=5) or callback_at < now - timedelta(days=7):
        raise LERequestError("the call-back time must be within the last seven days")
    if document.request.agency_id != agency.pk:
        raise LERequestError("the document reviewed belongs to another agency's request")
    verification = Verification.objects.create(
        agency=agency,
        partner=partner,
        email_domain=domain,
        callback_number=callback_number.strip()[:50],
        callback_at=callback_at,
        document=document,
        note=note.strip(),
        verified_by=actor,
        verified_at=now,
        expires_at=now + timedelta(days=settings.SAFEGUARD_LE_VERIFICATION_DAYS),
    )
    audit_record(
        event_type=AuditEventType.LE_VERIFICATION_RECORDED,
        actor=actor,
        source=source,
        target_type="le_agency",
        target_id=agency.pk,
        data={
            "verification": str(verification.pk),
            "partner": partner.user_id if partner else None,
            "email_domain": domain,
            "callback_number": verification.callback_number,
            "callback_at": callback_at.isoformat(),
            "document_sha256": document.sha256,
            "expires_at": verification.expires_at.isoformat(),
        },
    )
    return verification


# --- requests --------------------------------------------------------------------------------


def _reference(now: datetime) -> str:
    return f"LE-{now:%Y}-{uuid.uuid4().hex[:8].upper()}"


def _missing_fields(
    kind: RequestType, fields: Mapping[str, str], named: Sequence[str]
) -> list[str]:
    """The type's required fields the request lacks (the legal document is checked when the
    request is verified: it may follow the request)."""
    missing = [
        name
        for name in kind.required_fields
        if name not in ("named_accounts", "legal_document") and not fields.get(name, "").strip()
    ]
    if "named_accounts" in kind.required_fields and not named:
        missing.append("named_accounts")
    return missing


def _with_defaults(
    kind: RequestType, fields: Mapping[str, str], *, summary: str, agency: Agency
) -> dict[str, str]:
    """What the escalation itself says stands in for two fields a type may require: the
    requester states the danger in its summary, and the filing agency is the issuing authority
    unless it names another."""
    out = dict(fields)
    if "danger" in kind.required_fields and summary.strip():
        out.setdefault("danger", summary.strip())
    if "issuing_authority" in kind.required_fields:
        out.setdefault("issuing_authority", agency.name)
    return out


def _check_fields(kind: RequestType, fields: Mapping[str, str], named: Sequence[str]) -> None:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise LERequestError(
            f"unknown request fields: {', '.join(unknown)}; known: {', '.join(sorted(FIELDS))}"
        )
    missing = _missing_fields(kind, fields, named)
    if missing:
        raise LERequestError(
            f"{kind.noun} needs: " + "; ".join(f"{name} ({FIELDS[name]})" for name in missing)
        )


def _schedule_deadline(request: LERequest) -> None:
    if request.due_at is None:
        return
    due = request.due_at.isoformat()
    if request.warn_at is not None:
        enqueue(
            tasks.le_request_deadline_warn,
            run_after=request.warn_at,
            request_id=str(request.pk),
            due=due,
        )
    enqueue(
        tasks.le_request_deadline_breach,
        run_after=request.due_at,
        request_id=str(request.pk),
        due=due,
    )


def _clock(kind: RequestType, received_at: datetime) -> tuple[datetime | None, datetime | None]:
    if kind.clock is None:
        return None, None
    due = due_at(
        received_at,
        kind.clock,
        zone=settings.SAFEGUARD_PLATFORM_TIME_ZONE,
        holiday_country=settings.SAFEGUARD_LE_HOLIDAY_COUNTRY or None,
    )
    return due, warn_at(received_at, due)


def _agency_for(caller: User, block: Mapping[str, Any], partner: Partner | None) -> Agency:
    if partner is not None:
        return partner.agency
    name = str(block.get("agency", "")).strip()
    agency = Agency.objects.filter(name=name).first()
    if agency is None:
        # An agency nobody has recorded yet: kept with what the requester said, verifiable
        # only once legal staff add its official domains and published number.
        agency = Agency.objects.create(
            name=name[:300],
            country=str(block.get("country", "")).upper()[:2],
            jurisdiction="",
            email_domains=[],
            published_phone="",
            phone_source="",
            created_at=timezone.now(),
        )
    return agency


def _date(raw: object) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise LERequestError(f"non_disclosure_until {raw!r} is not a date") from None


def _default_type(block: Mapping[str, Any]) -> str:
    """The request type a law-enforcement block names; "" leaves it for legal staff to
    classify (a bare "legal_process" does not say which instrument it is)."""
    key = block.get("legal_type")
    if key:
        return str(key)
    coarse = block.get("request_type")
    eu = str(block.get("country", "")).upper() in settings.SAFEGUARD_EU_COUNTRIES
    if coarse == "emergency_disclosure":
        return "eu_emergency_production_order" if eu else "us_emergency_disclosure"
    if coarse == "preservation":
        return "eu_preservation_order" if eu else "us_preservation"
    return ""


def le_request_from_escalation(
    *,
    escalation: Escalation,
    actor: User,
    source: AuditSource,
    **_: object,
) -> None:
    """Subscribed to `intake.hooks.escalation_accepted`, after cases grouped it: a
    law-enforcement escalation becomes a request, in intake's transaction, so a request that
    cannot be accepted (an unknown type, a missing required field) refuses the escalation too.
    """
    if escalation.channel != Channel.LAW_ENFORCEMENT:
        return
    block: Mapping[str, Any] = escalation.payload.get("law_enforcement") or {}
    partner = partner_of(actor)
    agency = _agency_for(actor, block, partner)
    fields = {str(k): str(v) for k, v in (block.get("fields") or {}).items()}
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise LERequestError(
            f"unknown request fields: {', '.join(unknown)}; known: {', '.join(sorted(FIELDS))}"
        )
    named = [
        str(s["platform_id"])
        for s in escalation.payload.get("subjects", [])
        if s.get("role") in ("suspect", "victim")
    ]
    explicit = block.get("legal_type")
    key = str(explicit) if explicit else _default_type(block)
    kind: RequestType | None = None
    # A coarse preservation request lacking its type's fields still holds at once, for as long
    # as its default type would; legal staff classify it.
    provisional: RequestType | None = None
    if key:
        try:
            kind = request_type(key)
        except RequestTypeError as exc:
            raise LERequestError(str(exc)) from None
    if kind is not None:
        fields = _with_defaults(kind, fields, summary=escalation.summary, agency=agency)
        if explicit:
            _check_fields(kind, fields, named)
        elif _missing_fields(kind, fields, named):
            provisional = kind if kind.preservation is not None else None
            kind, key = None, ""
    now = escalation.received_at
    due, warn = _clock(kind, now) if kind is not None else (None, None)
    case_link = getattr(escalation, "case_link", None)
    request = LERequest.objects.create(
        reference=_reference(now),
        request_type=key,
        agency=agency,
        submitted_by=actor,
        partner=partner,
        category=escalation.category,
        summary=escalation.summary,
        fields=fields,
        named_accounts=named,
        non_disclosure=bool(block.get("non_disclosure")),
        non_disclosure_until=_date(block.get("non_disclosure_until")),
        received_at=now,
        due_at=due,
        warn_at=warn,
        escalation=escalation,
        case=case_link.case if case_link is not None else None,
    )
    NamedAccount.objects.bulk_create(
        [NamedAccount(request=request, platform_id=pid) for pid in dict.fromkeys(named)]
    )
    audit_record(
        event_type=AuditEventType.LE_REQUEST_RECEIVED,
        actor=actor,
        source=source,
        target_type="le_request",
        target_id=request.pk,
        data={
            "reference": request.reference,
            "request_type": key or None,
            "agency": agency.name,
            "escalation": str(escalation.pk),
            "case": str(request.case_id) if request.case_id else None,
            "due_at": due.isoformat() if due else None,
            "non_disclosure": request.non_disclosure,
        },
    )
    if request.non_disclosure:
        _suppress_user_notice(request, actor=actor, source=source)
    if kind is not None and kind.preservation is not None:
        _preserve(request, kind, actor=actor, source=source)
    elif provisional is not None:
        _preserve(request, provisional, actor=actor, source=source)
    _schedule_deadline(request)


def _suppress_user_notice(request: LERequest, *, actor: User, source: AuditSource) -> None:
    """A non-disclosure order: the platform is told, with every action on the named accounts,
    not to notify them (the case carries the `non_disclosure` tag the adapter reads)."""
    if request.case is not None:
        case = Case.objects.select_for_update().get(pk=request.case.pk)
        case.tags = sorted({*case.tags, "non_disclosure"})
        case.save(update_fields=["tags"])
    audit_record(
        event_type=AuditEventType.LE_REQUEST_USER_NOTICE_SUPPRESSED,
        actor=actor,
        source=source,
        target_type="le_request",
        target_id=request.pk,
        data={
            "accounts": request.named_accounts,
            "until": request.non_disclosure_until.isoformat()
            if request.non_disclosure_until
            else None,
            "case": str(request.case_id) if request.case_id else None,
        },
    )


def _hold_end(request: LERequest, preservation: Preservation, *, extensions: int) -> datetime:
    return hold_ends_at(
        request.received_at,
        preservation,
        extensions=extensions,
        zone=settings.SAFEGUARD_PLATFORM_TIME_ZONE,
        holiday_country=settings.SAFEGUARD_LE_HOLIDAY_COUNTRY or None,
    )


def _preserve(request: LERequest, kind: RequestType, *, actor: User, source: AuditSource) -> None:
    """A preservation request holds the named accounts at once (a provisional hold, in
    Safeguard) and asks the host platform, which holds the subscriber records, to preserve
    them too; the platform's confirmation is tracked on the request's case."""
    if kind.preservation is None:
        return
    until = _hold_end(request, kind.preservation, extensions=0)
    subjects = {
        s.platform_id: s for s in Subject.objects.filter(platform_id__in=request.named_accounts)
    }
    for account in request.named_accounts:
        subject = subjects.get(account)
        if subject is None:
            continue
        # Placed by Safeguard itself the moment the request arrives (the requester may not
        # place holds), so nothing named is deleted while legal staff read the request.
        holds.hold_place(
            target_type="subject",
            target_id=str(subject.pk),
            reason=f"{kind.label} {request.reference} from {request.agency.name}",
            hold_source="request",
            source_reference=str(request.pk),
            ends_at=until,
            actor=None,
            source=source,
        )
        if request.case is not None:
            action_request(
                case=request.case,
                kind=ActionKind.PRESERVE,
                target_type="account",
                target_id=account,
                actor=actor,
                source=source,
                reason=f"{kind.label} {request.reference}",
                platform=settings.SAFEGUARD_PLATFORM,
            )
    request.preserved_until = until
    request.save(update_fields=["preserved_until"])


@transaction.atomic
def le_request_classify(
    *, request: LERequest, request_type_key: str, actor: User, source: AuditSource
) -> LERequest:
    """Legal staff say which instrument an unclassified request is; its clock starts from
    receipt, as the law counts it, not from the classification."""
    _require(actor, Permission.LE_REQUEST_MANAGE, "classify requests")
    locked = (
        LERequest.objects.select_for_update(of=("self",))
        .select_related("agency")
        .get(pk=request.pk)
    )
    if locked.request_type:
        raise LERequestError(f"{locked.reference} is already a {locked.request_type}")
    try:
        kind = request_type(request_type_key)
    except RequestTypeError as exc:
        raise LERequestError(str(exc)) from None
    fields = _with_defaults(kind, locked.fields, summary=locked.summary, agency=locked.agency)
    _check_fields(kind, fields, locked.named_accounts)
    locked.fields = fields
    locked.request_type = kind.key
    locked.due_at, locked.warn_at = _clock(kind, locked.received_at)
    locked.save(update_fields=["request_type", "fields", "due_at", "warn_at"])
    audit_record(
        event_type=AuditEventType.LE_REQUEST_TRANSITIONED,
        actor=actor,
        source=source,
        target_type="le_request",
        target_id=locked.pk,
        data={
            "classified_as": kind.key,
            "due_at": locked.due_at.isoformat() if locked.due_at else None,
        },
    )
    if kind.preservation is not None:
        _preserve(locked, kind, actor=actor, source=source)
    _schedule_deadline(locked)
    return locked


@transaction.atomic
def le_request_document_add(
    *,
    request: LERequest,
    upload: BinaryIO,
    name: str,
    actor: User,
    source: AuditSource,
) -> RequestDocument:
    """Store a legal document of the request in the vault: a PDF or an image, read from its
    bytes (the declared type is not trusted)."""
    sniffed = sniff(upload)
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    media_type = "application/pdf" if head == b"%PDF-" else sniffed.media_type
    if sniffed.kind != "image" and media_type != "application/pdf":
        raise LERequestError(
            f"a legal document must be a PDF or an image; this file is {sniffed.description}"
        )
    if sniffed.markup:
        raise LERequestError("the image carries markup (a polyglot file); send a clean scan")
    stored = vault().put(upload, max_bytes=MAX_DOCUMENT_BYTES)
    clean = re.sub(r"[^\w.\- ]", "_", name.strip())[:200] or "document"
    document = RequestDocument.objects.create(
        request=request,
        sha256=stored.sha256,
        name=clean,
        media_type=media_type,
        size=stored.size,
        uploaded_by=actor,
        uploaded_at=timezone.now(),
    )
    audit_record(
        event_type=AuditEventType.LE_REQUEST_DOCUMENT_STORED,
        actor=actor,
        source=source,
        target_type="le_request",
        target_id=request.pk,
        data={
            "document": str(document.pk),
            "sha256": stored.sha256,
            "media_type": media_type,
            "size": stored.size,
        },
    )
    return document


@transaction.atomic
def le_request_document_read(
    *, request: LERequest, document: RequestDocument, actor: User, source: AuditSource
) -> bytes:
    """Legal staff open a request's legal document: audited, then its bytes from the vault."""
    _require(actor, Permission.LE_REQUEST_MANAGE, "read requests' legal documents")
    if document.request_id != request.pk:
        raise LERequestError("the document belongs to another request")
    audit_record(
        event_type=AuditEventType.LE_REQUEST_DOCUMENT_READ,
        actor=actor,
        source=source,
        target_type="le_request",
        target_id=request.pk,
        data={"document": str(document.pk), "sha256": document.sha256},
    )
    return vault().read(document.sha256)


@transaction.atomic
def le_request_transition(
    *,
    request: LERequest,
    transition: RequestTransition,
    actor: User | None,
    source: AuditSource,
    note: str = "",
) -> LERequest:
    """Move a request along workflow.EDGES, checked and audited. `verify` needs an unexpired
    verification of the agency and the person and a legal document on the request; `reject`
    and `ask_for_information` need a note the requester will read."""
    if actor is not None:
        _require(actor, Permission.LE_REQUEST_MANAGE, "move law-enforcement requests")
    locked = (
        LERequest.objects.select_for_update(of=("self",))
        .select_related("agency", "partner")
        .get(pk=request.pk)
    )
    state = RequestState(locked.state)
    target = next_state(state, transition)
    now = timezone.now()
    if transition is RequestTransition.VERIFY:
        missing = requester_unverified(locked, now=now)
        if not locked.documents.exists():
            missing.append("no legal document is attached to the request")
        if not locked.request_type:
            missing.append("the request is not classified as a request type yet")
        if missing:
            raise LERequestError("cannot verify: " + "; ".join(missing))
    if transition in (RequestTransition.REJECT, RequestTransition.ASK_FOR_INFORMATION):
        if not note.strip():
            raise LERequestError(f"{transition.value} needs a note for the requester")
        locked.response_note = note.strip()
    locked.state = target
    if target not in OPEN_STATES:
        locked.closed_at = now
    locked.save(update_fields=["state", "response_note", "closed_at"])
    audit_record(
        event_type=AuditEventType.LE_REQUEST_TRANSITIONED,
        actor=actor,
        source=source,
        target_type="le_request",
        target_id=locked.pk,
        data={
            "transition": transition.value,
            "from": state.value,
            "to": target.value,
            "note": note.strip(),
        },
    )
    return locked


@transaction.atomic
def le_request_determine_emergency(
    *, request: LERequest, emergency: bool, reasons: str, actor: User, source: AuditSource
) -> LERequest:
    """The good-faith determination a person makes on an emergency request (18 U.S.C.
    §2702(b)(8), (c)(4) permit disclosure, they do not compel it): whether an emergency
    involving danger of death or serious physical injury requires disclosure without delay,
    and why. Only a positive determination lets content into a package."""
    _require(actor, Permission.LE_REQUEST_MANAGE, "determine emergencies")
    locked = LERequest.objects.select_for_update().get(pk=request.pk)
    if not locked.request_type or not request_type(locked.request_type).emergency:
        raise LERequestError(f"{locked.reference} is not an emergency request")
    if len(reasons.strip()) < 10:
        raise LERequestError("write the reasons for the determination (10 characters or more)")
    locked.determined_emergency = emergency
    locked.determination_reasons = reasons.strip()
    locked.determined_by = actor
    locked.determined_at = timezone.now()
    locked.save(
        update_fields=[
            "determined_emergency",
            "determination_reasons",
            "determined_by",
            "determined_at",
        ]
    )
    audit_record(
        event_type=AuditEventType.LE_REQUEST_EMERGENCY_DETERMINED,
        actor=actor,
        source=source,
        target_type="le_request",
        target_id=locked.pk,
        data={"emergency": emergency, "reasons": locked.determination_reasons},
    )
    return locked


@transaction.atomic
def le_preservation_extend(
    *, request: LERequest, actor: User, source: AuditSource, note: str = ""
) -> LERequest:
    """A renewed request extends a preservation once, by the type's extension; a second
    extension is refused, naming the rule."""
    _require(actor, Permission.LE_REQUEST_MANAGE, "extend preservations")
    locked = LERequest.objects.select_for_update().get(pk=request.pk)
    kind = request_type(locked.request_type) if locked.request_type else None
    if kind is None or kind.preservation is None or locked.preserved_until is None:
        raise PreservationError(f"{locked.reference} is not a preservation request")
    rule = kind.preservation
    if locked.preservation_extensions >= rule.max_extensions:
        cited = kind.citations[0].source if kind.citations else kind.label
        raise PreservationError(
            f"{locked.reference} was already extended {locked.preservation_extensions} time(s); "
            f"a {kind.label} may be extended {rule.max_extensions} time(s) by "
            f"{rule.extension_days} days ({cited})"
        )
    if locked.preserved_until <= timezone.now():
        raise PreservationError(
            f"the preservation of {locked.reference} ended at {locked.preserved_until:%Y-%m-%d}; "
            "an extension must arrive while it runs"
        )
    until = _hold_end(locked, rule, extensions=locked.preservation_extensions + 1)
    placed = LegalHold.objects.filter(
        source="request", source_reference=str(locked.pk), released_at__isnull=True
    )
    for hold in placed:
        holds.hold_extend(
            hold=hold,
            ends_at=until,
            reason=note.strip() or f"renewed request {locked.reference}",
            actor=actor,
            source=source,
        )
    locked.preserved_until = until
    locked.preservation_extensions += 1
    locked.save(update_fields=["preserved_until", "preservation_extensions"])
    audit_record(
        event_type=AuditEventType.LE_REQUEST_PRESERVATION_EXTENDED,
        actor=actor,
        source=source,
        target_type="le_request",
        target_id=locked.pk,
        data={"until": until.isoformat(), "extension": locked.preservation_extensions},
    )
    return locked


# --- clocks ------------------------------------------------------------------------------------


def legal_oncall() -> list[User]:
    """Who is paged for an overdue request: the configured legal on-call list (the rota issue
    replaces it), else the on-call lead, so an overdue request never pages nobody."""
    names = list(settings.SAFEGUARD_LEGAL_ONCALL)
    people = list(User.objects.filter(username__in=names, is_active=True))
    people.sort(key=lambda u: names.index(u.username))
    if not people:
        lead = oncall_lead()
        people = [lead] if lead is not None else []
    return people


@transaction.atomic
def le_request_deadline_fire(*, request_id: uuid.UUID, due: str, warning: bool) -> str:
    """A request's clock runs down: warn before, page legal on-call at the deadline. A task
    scheduled for a deadline that has since moved, or a request already answered, does
    nothing."""
    request = LERequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        return "no such request"
    if request.due_at is None or request.due_at.isoformat() != due:
        return "deadline moved; a newer task covers it"
    if request.state not in OPEN_STATES:
        return "already answered"
    now = timezone.now()
    if warning:
        if request.warned_at is not None:
            return "already warned"
        request.warned_at = now
        request.save(update_fields=["warned_at"])
        event, kind = AuditEventType.LE_REQUEST_DEADLINE_WARNED, PageKind.DEADLINE_WARNING
        message = f"{request.reference} ({request.request_type}) is due at {due}"
    else:
        if request.breached_at is not None:
            return "already breached"
        request.breached_at = now
        request.save(update_fields=["breached_at"])
        event, kind = AuditEventType.LE_REQUEST_DEADLINE_BREACHED, PageKind.DEADLINE_BREACH
        message = f"OVERDUE: {request.reference} ({request.request_type}) was due at {due}"
    recipients = legal_oncall()
    audit_record(
        event_type=event,
        actor=None,
        source=AuditSource.TASK,
        target_type="le_request",
        target_id=request.pk,
        data={"due": due, "paged": [u.username for u in recipients]},
    )
    if request.case is not None and recipients:
        page_notice(case=request.case, kind=kind, recipients=recipients, message=message)
    return f"{'warning' if warning else 'breach'}: paged {len(recipients)}"
