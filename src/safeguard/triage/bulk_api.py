"""The bulk endpoint: a lead reassigns or re-prioritises many cases with one reason."""

import uuid
from enum import StrEnum
from typing import Annotated, Self

from django.http import HttpRequest
from ninja import Router
from pydantic import BaseModel, Field, Strict, model_validator

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.cases.models import Case
from safeguard.cases.queue_api import QueueName, Reason, Username
from safeguard.cases.workflow import Priority
from safeguard.core.fields import ApiIn, Choice
from safeguard.core.openapi import answers
from safeguard.triage.bulk import (
    MAX_BATCH,
    bulk_reassign_target,
    cases_bulk_reassign,
    cases_bulk_reprioritise,
)

router = Router(tags=["queues"])


class BulkAction(StrEnum):
    REASSIGN = "reassign"
    REPRIORITISE = "reprioritise"


class BulkIn(ApiIn):
    action: Choice[BulkAction]
    # JSON sends a UUID as text, which strict mode would refuse.
    case_ids: Annotated[list[Annotated[uuid.UUID, Strict(False)]], Field(min_length=1)]
    reason: Reason
    to_queue: QueueName | None = None
    to_user: Username | None = None
    priority: Choice[Priority] | None = None

    @model_validator(mode="after")
    def _one_change(self) -> Self:
        if len(self.case_ids) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} cases at once; {len(self.case_ids)} were sent")
        if self.action is BulkAction.REASSIGN:
            if (self.to_queue is None) == (self.to_user is None):
                raise ValueError("reassign needs exactly one of to_queue, to_user")
            if self.priority is not None:
                raise ValueError("priority is for action 'reprioritise', not 'reassign'")
        else:
            if self.priority is None:
                raise ValueError("reprioritise needs a priority")
            if self.to_queue is not None or self.to_user is not None:
                raise ValueError("to_queue and to_user are for action 'reassign'")
        return self


class BulkCaseOut(BaseModel):
    id: uuid.UUID
    state: str
    priority: str | None
    queue: str | None
    holder: str | None


class BulkOut(BaseModel):
    action: BulkAction
    changed: int
    cases: list[BulkCaseOut]


def _out(case: Case) -> BulkCaseOut:
    return BulkCaseOut(
        id=case.pk,
        state=case.state,
        priority=case.priority or None,
        queue=case.queue or None,
        holder=case.holder.username if case.holder else None,
    )


@router.post(
    "/cases/bulk",
    response=answers(BulkOut, 422),
    auth=requires(Permission.CASES_CASE_ASSIGN),
    summary="A lead reassigns or re-prioritises many cases at once with one reason "
    "(all or nothing, each case audited)",
)
def cases_bulk(request: HttpRequest, payload: BulkIn) -> BulkOut:
    user = request.auth  # type: ignore[attr-defined]
    if payload.action is BulkAction.REASSIGN:
        to_queue, to_user = bulk_reassign_target(
            to_queue=payload.to_queue or "", to_user=payload.to_user or ""
        )
        changed = cases_bulk_reassign(
            case_ids=payload.case_ids,
            actor=user,
            reason=payload.reason,
            source=AuditSource.API,
            to_queue=to_queue,
            to_user=to_user,
        )
    else:
        assert payload.priority is not None  # noqa: S101 - checked by BulkIn
        changed = cases_bulk_reprioritise(
            case_ids=payload.case_ids,
            actor=user,
            reason=payload.reason,
            priority=payload.priority,
            source=AuditSource.API,
        )
    return BulkOut(action=payload.action, changed=len(changed), cases=[_out(c) for c in changed])
