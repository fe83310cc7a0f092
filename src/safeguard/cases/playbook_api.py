"""Playbook endpoints: a case's checklist, ticking a step, closing a case, and the playbooks
document in force (read, or upload and activate a new version)."""

import uuid
from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Router
from pydantic import BaseModel, Field

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.cases.playbook_selectors import CasePlaybook, playbook_for_case
from safeguard.cases.playbook_services import (
    MAX_NOTE,
    case_close,
    playbook_activate,
    playbook_active,
    playbook_active_record,
    playbook_step_tick,
)
from safeguard.cases.playbooks import MAX_PLAYBOOK_BYTES, MAX_STEP_ID, default_playbooks_text
from safeguard.cases.schemas import CaseOut, case_out
from safeguard.cases.selectors import case_get_for
from safeguard.core.fields import STORABLE, ApiIn
from safeguard.core.openapi import answers
from safeguard.core.versioned import version_described

router = Router(tags=["playbooks"])

StepId = Annotated[
    str, Field(min_length=1, max_length=MAX_STEP_ID, pattern=r"^[a-z0-9][a-z0-9-]*$")
]
Text = Annotated[str, Field(max_length=MAX_NOTE), STORABLE]


class TickIn(ApiIn):
    note: Text = Field(
        default="",
        description="what was done (a reference, the service contacted) or why it was not needed",
    )


class CloseIn(ApiIn):
    reason: Text = Field(
        default="", description="required when a lead closes with required steps unticked"
    )


class PlaybookDocumentIn(ApiIn):
    # Bounded here so an oversized document is refused before the YAML reader sees it.
    source: Annotated[str, Field(min_length=1, max_length=MAX_PLAYBOOK_BYTES), STORABLE] = Field(
        description="the playbooks YAML document"
    )


class StepOut(BaseModel):
    id: str
    title: str
    detail: str
    kind: str
    required: bool
    # False for a step ticked under an earlier version that the one in force no longer lists.
    in_playbook: bool
    ticked_by: str | None
    ticked_at: datetime | None
    note: str | None
    ticked_under: str | None


class CasePlaybookOut(BaseModel):
    version: str
    playbooks: list[str] = Field(description='the playbooks combined, e.g. "self_harm P0"')
    categories: list[str]
    priority: str | None
    steps: list[StepOut]
    unticked_required: list[str]


class PlaybookDocumentOut(BaseModel):
    version: str
    source: str
    built_in: bool
    uploaded_by: str | None
    uploaded_at: datetime | None


def _playbook_out(playbook: CasePlaybook) -> CasePlaybookOut:
    return CasePlaybookOut(
        version=playbook.version,
        playbooks=list(playbook.sources),
        categories=list(playbook.categories),
        priority=playbook.priority or None,
        steps=[
            StepOut(
                id=s.step.id,
                title=s.step.title,
                detail=s.step.detail,
                kind=s.step.kind.value,
                required=s.step.required,
                in_playbook=s.in_playbook,
                ticked_by=s.tick.ticked_by.username if s.tick else None,
                ticked_at=s.tick.ticked_at if s.tick else None,
                note=s.tick.note if s.tick else None,
                ticked_under=s.tick.playbook_version if s.tick else None,
            )
            for s in playbook.steps
        ],
        unticked_required=[s.step.id for s in playbook.unticked_required],
    )


@router.get(
    "/cases/{case_id}/playbook",
    response=CasePlaybookOut,
    auth=requires(Permission.CASES_CASE_READ),
    summary="The case's playbook: each step, and who ticked it when",
)
def case_playbook(request: HttpRequest, case_id: uuid.UUID) -> CasePlaybookOut:
    case = case_get_for(user=request.auth, case_id=case_id)  # type: ignore[attr-defined]
    return _playbook_out(playbook_for_case(case=case))


@router.post(
    "/cases/{case_id}/playbook/{step_id}/tick",
    response=answers(CasePlaybookOut, 409, 422),
    auth=requires(Permission.CASES_CASE_REVIEW),
    summary="Tick one step of the case's playbook, with a note saying what was done",
)
def case_playbook_tick(
    request: HttpRequest, case_id: uuid.UUID, step_id: Path[StepId], payload: TickIn
) -> CasePlaybookOut:
    user = request.auth  # type: ignore[attr-defined]
    case = case_get_for(user=user, case_id=case_id)
    playbook_step_tick(
        case=case, step_id=step_id, actor=user, note=payload.note, source=AuditSource.API
    )
    return _playbook_out(playbook_for_case(case=case))


@router.post(
    "/cases/{case_id}/close",
    response=answers(CaseOut, 409, 422),
    auth=requires(Permission.CASES_CASE_CLOSE),
    summary="Close a decided or actioned case; required playbook steps must be ticked, or a "
    "lead gives a reason",
)
def case_close_endpoint(
    request: HttpRequest, case_id: uuid.UUID, payload: CloseIn | None = None
) -> CaseOut:
    user = request.auth  # type: ignore[attr-defined]
    case = case_get_for(user=user, case_id=case_id)
    case_close(
        case=case, actor=user, source=AuditSource.API, reason=payload.reason if payload else ""
    )
    return case_out(case_get_for(user=user, case_id=case_id))


@router.get(
    "/playbooks",
    response=PlaybookDocumentOut,
    auth=requires(Permission.CASES_CASE_READ, Permission.CASES_PLAYBOOK_MANAGE),
    summary="The playbooks document in force",
)
def playbooks_get(request: HttpRequest) -> PlaybookDocumentOut:
    return PlaybookDocumentOut(
        **version_described(
            playbook_active_record(),
            built_in_version=playbook_active().version,
            built_in_source=default_playbooks_text(),
        )
    )


@router.post(
    "/playbooks",
    response=answers(PlaybookDocumentOut, 409, 422),
    auth=requires(Permission.CASES_PLAYBOOK_MANAGE),
    summary="Upload and activate a version of the playbooks; a document with any problem "
    "changes nothing",
)
def playbooks_post(request: HttpRequest, payload: PlaybookDocumentIn) -> PlaybookDocumentOut:
    playbook_activate(source_text=payload.source, actor=request.auth, source=AuditSource.API)  # type: ignore[attr-defined]
    return playbooks_get(request)
