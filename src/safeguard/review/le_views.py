"""The case page's law-enforcement panel: the requests about the case and its accounts, the
referrals made to the police, a form to refer a child in imminent danger, and one to record an
agency's acknowledgement.

A refused form keeps what the person typed, held in the session for one showing of the case
page (as the playbook's forms do).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from safeguard.accounts.console import console_required
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.cases.models import Case
from safeguard.core.errors import DomainError
from safeguard.intake.models import EscalationSubject
from safeguard.lawenforcement.directory import EU, directory
from safeguard.lawenforcement.models import Referral
from safeguard.lawenforcement.referrals import referral_acknowledge, referral_send
from safeguard.lawenforcement.selectors import requests_for_case
from safeguard.review.case_forms import (
    back_to,
    keep_refused,
    person,
    refused_form,
    visible_case,
)

__all__ = ["le_context", "referral_ack_view", "referral_send_view"]

REJECTED = "le_rejected"


def le_context(*, request: HttpRequest, case: Case) -> dict[str, Any]:
    """What `review/_law_enforcement.html` needs: the requests, the referrals with their
    clocks, and the directory's agencies, the victims' countries first."""
    user = person(request)
    form = refused_form(request, REJECTED, case)
    countries = list(
        dict.fromkeys(
            EscalationSubject.objects.filter(escalation__case_link__case=case, role="victim")
            .exclude(country="")
            .values_list("country", flat=True)
        )
    )
    book = directory(settings.SAFEGUARD_LE_DIRECTORY)
    order = {country: index for index, country in enumerate([*countries, EU])}
    agencies = sorted(book.agencies, key=lambda a: (order.get(a.country, len(order)), a.country))
    now = timezone.now()
    referrals = list(case.referrals.select_related("sent_by", "acknowledged_by"))
    return {
        "le_requests": list(requests_for_case(case)),
        "le_can_open_requests": user.has_permission(Permission.LE_REQUEST_READ),
        "le_referrals": [(r, r.acknowledged_at is None and r.ack_due_at < now) for r in referrals],
        "le_can_refer": user.has_permission(Permission.LE_REFERRAL_CREATE),
        "le_agencies": agencies,
        "le_victim_countries": countries,
        "le_directory_version": book.version,
        "le_form": form,
    }


@require_POST
@console_required
def referral_send_view(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = visible_case(request, case_id)
    agency = request.POST.get("agency", "")
    reason = request.POST.get("reason", "")
    try:
        referral = referral_send(
            case=case,
            agency_key=agency,
            reason=reason,
            dsa_article_18=request.POST.get("dsa_article_18") == "on",
            actor=person(request),
            source=AuditSource.CONSOLE,
        )
    except DomainError as exc:
        keep_refused(
            request, REJECTED, case, agency=agency, reason=reason, error=f"Not referred: {exc}"
        )
        return back_to(case_id, "law-enforcement")
    how = {
        "email": "e-mailed",
        "portal": "recorded as sent through their portal",
        "phone": "recorded as phoned",
    }[referral.channel]
    messages.success(
        request,
        f"Referral to {referral.agency_name} {how}. Record their reference when they acknowledge.",
    )
    return back_to(case_id, "law-enforcement")


@require_POST
@console_required
def referral_ack_view(
    request: HttpRequest, case_id: uuid.UUID, referral_id: uuid.UUID
) -> HttpResponse:
    case = visible_case(request, case_id)
    referral = Referral.objects.filter(pk=referral_id, case=case).first()
    if referral is None:
        raise Http404("no such referral")
    reference = request.POST.get("agency_reference", "")
    try:
        referral_acknowledge(
            referral=referral,
            agency_reference=reference,
            actor=person(request),
            source=AuditSource.CONSOLE,
        )
    except DomainError as exc:
        keep_refused(
            request,
            REJECTED,
            case,
            ack=str(referral.pk),
            agency_reference=reference,
            ack_error=f"Not recorded: {exc}",
        )
        return back_to(case_id, f"referral-{referral.pk}")
    messages.success(request, f"Acknowledgement recorded: {reference.strip()}.")
    return back_to(case_id, f"referral-{referral.pk}")
