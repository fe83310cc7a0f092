"""Intake endpoints: file an escalation, read one back."""

import uuid

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.intake.presenters import escalation_detail, intake_response
from safeguard.intake.schemas import EscalationDetail, EscalationIn, EscalationOut
from safeguard.intake.selectors import escalation_get_for
from safeguard.intake.services import escalation_intake

router = Router(tags=["intake"])


@router.post(
    "/escalations",
    response={200: EscalationOut, 201: EscalationOut},
    auth=requires(Permission.INTAKE_ESCALATION_CREATE, Permission.INTAKE_LE_REQUEST_CREATE),
    summary="File an escalation (idempotent on channel + external_id per caller)",
)
def escalation_create(request: HttpRequest, payload: EscalationIn) -> Status[EscalationOut]:
    result = escalation_intake(payload=payload, caller=request.auth, source=AuditSource.API)  # type: ignore[attr-defined]
    return Status(201 if result.created else 200, intake_response(result.escalation, result.case))


@router.get(
    "/escalations/{escalation_id}",
    response=EscalationDetail,
    auth=requires(Permission.INTAKE_ESCALATION_READ),
    summary="An escalation exactly as received",
)
def escalation_get(request: HttpRequest, escalation_id: uuid.UUID) -> EscalationDetail:
    escalation = escalation_get_for(user=request.auth, escalation_id=escalation_id)  # type: ignore[attr-defined]
    return escalation_detail(escalation)
