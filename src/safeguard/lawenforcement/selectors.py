"""Reads for law enforcement, with the access check: a partner sees only its own agency's
requests, and a request one may not see does not exist for them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.actions.models import Action
from safeguard.cases.decisions import ActionKind
from safeguard.cases.models import Case
from safeguard.core.errors import NotFound
from safeguard.evidence.models import ContentItem
from safeguard.intake.models import EscalationSubject, Subject
from safeguard.lawenforcement.models import Agency, LERequest, NamedAccount, Partner, Verification
from safeguard.lawenforcement.request_types import RequestType, RequestTypeError, request_type


class LERequestNotFound(NotFound):
    def __init__(self, request_id: object) -> None:
        super().__init__(f"no law-enforcement request {request_id}")


class AgencyNotFound(NotFound):
    def __init__(self, agency_id: object) -> None:
        super().__init__(f"no agency {agency_id}")


def partner_of(user: User) -> Partner | None:
    return Partner.objects.select_related("agency").filter(user=user).first()


def visible_requests(user: User) -> QuerySet[LERequest]:
    """Legal staff and leads see every request; a partner its own agency's; anyone else none."""
    requests = LERequest.objects.select_related("agency", "partner__user")
    if user.has_permission(Permission.LE_REQUEST_READ):
        return requests
    if user.has_permission(Permission.LE_REQUEST_SUBMIT):
        partner = partner_of(user)
        if partner is not None:
            return requests.filter(agency=partner.agency)
    return requests.none()


def le_request_get_for(*, user: User, request_id: uuid.UUID) -> LERequest:
    found = visible_requests(user).filter(pk=request_id).first()
    if found is None:
        raise LERequestNotFound(request_id)
    return found


def le_request_for_staff(*, user: User, request_id: uuid.UUID) -> LERequest:
    """A request for legal staff to act on; to a partner it does not exist."""
    if not user.has_permission(Permission.LE_REQUEST_READ):
        raise LERequestNotFound(request_id)
    return le_request_get_for(user=user, request_id=request_id)


def agency_get_for(*, user: User, agency_id: uuid.UUID) -> Agency:
    if not user.has_permission(Permission.LE_AGENCY_MANAGE):
        raise AgencyNotFound(agency_id)
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise AgencyNotFound(agency_id)
    return agency


def type_of(request: LERequest) -> RequestType | None:
    if not request.request_type:
        return None
    try:
        return request_type(request.request_type)
    except RequestTypeError:
        return None


def latest_verification(
    *, agency: Agency, partner: Partner | None, now: datetime
) -> Verification | None:
    return (
        Verification.objects.filter(agency=agency, partner=partner, expires_at__gt=now)
        .order_by("-verified_at")
        .first()
    )


@dataclass(frozen=True)
class AccountHoldings:
    """What Safeguard holds about one account a request names."""

    platform_id: str
    known: bool
    country: str
    escalations: int
    content_items: int
    cases: list[Case]


def holdings_for(request: LERequest) -> list[AccountHoldings]:
    """Per named account: whether Safeguard knows it, how many escalations name it, how much
    content they carry, and the cases it is a suspect in (the request links to them)."""
    out = []
    for platform_id in request.named_accounts:
        subject = Subject.objects.filter(platform_id=platform_id).first()
        if subject is None:
            out.append(AccountHoldings(platform_id, False, "", 0, 0, []))
            continue
        links = EscalationSubject.objects.filter(subject=subject)
        escalation_ids = list(links.values_list("escalation_id", flat=True))
        content = ContentItem.objects.filter(mentions__escalation_id__in=escalation_ids).distinct()
        cases = list(
            Case.objects.filter(links__escalation_id__in=escalation_ids)
            .distinct()
            .order_by("-opened_at")
        )
        country = links.exclude(country="").values_list("country", flat=True).first() or ""
        out.append(
            AccountHoldings(platform_id, True, country, len(escalation_ids), content.count(), cases)
        )
    return out


def linked_cases(request: LERequest) -> list[Case]:
    """The request's own case and every case of the accounts it names, newest first."""
    seen: dict[uuid.UUID, Case] = {}
    if request.case is not None:
        seen[request.case.pk] = request.case
    for holding in holdings_for(request):
        for case in holding.cases:
            seen.setdefault(case.pk, case)
    return sorted(seen.values(), key=lambda c: c.opened_at, reverse=True)


def requests_for_case(case: Case) -> QuerySet[LERequest]:
    """The requests linked to a case: its own, and those naming one of its suspects."""
    suspects = list(case.suspects.values_list("platform_id", flat=True))
    naming = NamedAccount.objects.filter(platform_id__in=suspects).values("request_id")
    return (
        LERequest.objects.filter(Q(case=case) | Q(pk__in=naming))
        .distinct()
        .select_related("agency")
        .order_by("-received_at")
    )


def preservation_actions(request: LERequest) -> list[Action]:
    """The preservation actions sent to the platform for the request, with their status."""
    if request.case_id is None:
        return []
    return list(
        Action.objects.filter(
            case_id=request.case_id,
            kind=ActionKind.PRESERVE.value,
            target_type="account",
            target_id__in=request.named_accounts,
        ).order_by("created_at")
    )
