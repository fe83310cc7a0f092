"""Intake endpoints: file an escalation (the team reads it back through the cases API)."""

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.core.openapi import answers
from safeguard.intake.presenters import intake_response
from safeguard.intake.schemas import EscalationIn, EscalationOut
from safeguard.intake.services import escalation_intake

router = Router(tags=["intake"])


@router.post(
    "/escalations",
    response=answers({200: EscalationOut, 201: EscalationOut}, 409),
    auth=requires(Permission.INTAKE_ESCALATION_CREATE, Permission.INTAKE_LE_REQUEST_CREATE),
    summary="File an escalation (idempotent on channel + external_id per caller)",
)
def escalation_create(request: HttpRequest, payload: EscalationIn) -> Status[EscalationOut]:
    result = escalation_intake(payload=payload, caller=request.auth, source=AuditSource.API)  # type: ignore[attr-defined]
    return Status(
        201 if result.created else 200,
        intake_response(result.escalation, created=result.created),
    )
