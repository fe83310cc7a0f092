"""Playbook writes: activate a version of the playbooks, tick a step on a case, and close a case,
which its playbook's required steps gate (docs/playbooks.md)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.models import Case, Playbook, PlaybookStepTick
from safeguard.cases.playbook_selectors import (
    CasePlaybook,
    playbook_active,
    playbook_active_record,
    playbook_for_case,
)
from safeguard.cases.playbooks import compile_playbooks, default_playbooks, default_playbooks_text
from safeguard.cases.services import CasePermissionDenied, case_transition
from safeguard.cases.workflow import CaseState, CaseTransition, next_state
from safeguard.core.errors import Conflict, Forbidden, Invalid, NotFound
from safeguard.core.versioned import version_activate

__all__ = [
    "MAX_NOTE",
    "PlaybookConflict",
    "PlaybookIncomplete",
    "PlaybookPermissionDenied",
    "PlaybookStepNotFound",
    "PlaybookTickError",
    "case_close",
    "playbook_activate",
    "playbook_active",
    "playbook_active_record",
    "playbook_step_tick",
]

MAX_NOTE = 10_000


class PlaybookPermissionDenied(Forbidden):
    pass


class PlaybookConflict(Conflict):
    pass


class PlaybookTickError(Invalid):
    pass


class PlaybookIncomplete(Invalid):
    """A case cannot be closed: required steps of its playbook are not ticked."""

    def __init__(self, message: str, *, missing: list[str]) -> None:
        super().__init__(message)
        self.missing = missing


class PlaybookStepNotFound(NotFound):
    def __init__(self, step_id: str, playbook: CasePlaybook) -> None:
        ids = ", ".join(s.step.id for s in playbook.steps if s.in_playbook) or "none"
        super().__init__(
            f"no step {step_id!r} in this case's playbook ({playbook.version}: "
            f"{', '.join(playbook.sources)}); its steps are: {ids}"
        )
        self.step_id = step_id


def _clean(text: str, *, what: str) -> str:
    text = text.strip()
    if len(text) > MAX_NOTE:
        raise PlaybookTickError(f"{what} is at most {MAX_NOTE} characters, got {len(text)}")
    if "\x00" in text:
        raise PlaybookTickError(f"{what} holds a NUL character, which cannot be stored; remove it")
    return text


@transaction.atomic
def playbook_activate(*, source_text: str, actor: User, source: AuditSource) -> Playbook:
    """Check a playbook document and make it the one in force. A document with any problem
    changes nothing; a version already uploaded keeps its text."""
    if not actor.has_permission(Permission.CASES_PLAYBOOK_MANAGE):
        raise PlaybookPermissionDenied(
            f"{actor.username} may not change the playbooks "
            f"(needs {Permission.CASES_PLAYBOOK_MANAGE})"
        )
    document = compile_playbooks(source_text)  # raises PlaybookError naming each problem
    built_in = default_playbooks()
    if document.version == built_in.version and source_text != default_playbooks_text():
        raise PlaybookConflict(
            f"version {document.version!r} is the built-in playbooks' version; give yours a "
            "new version"
        )
    existing: Playbook = version_activate(
        Playbook,
        version=document.version,
        source_text=source_text,
        uploaded_by=actor,
        conflict=PlaybookConflict,
        what="steps",
    )
    audit_record(
        event_type=AuditEventType.PLAYBOOK_ACTIVATED,
        actor=actor,
        source=source,
        target_type="playbook",
        target_id=document.version,
        data={
            "digest": document.digest,
            "playbooks": sorted(
                f"{category.value} {key}"
                for category, table in document.playbooks.items()
                for key in table
            ),
        },
    )
    return existing


@transaction.atomic
def playbook_step_tick(
    *, case: Case, step_id: str, actor: User, note: str, source: AuditSource
) -> PlaybookStepTick:
    """Record that `actor` did one step of the case's playbook, with a note saying what was
    done. `case` must come from a selector that checked the actor may see it."""
    if not actor.has_permission(Permission.CASES_CASE_REVIEW):
        raise PlaybookPermissionDenied(
            f"{actor.username} may not tick playbook steps (needs {Permission.CASES_CASE_REVIEW})"
        )
    # Under the case's lock, so a tick and a close of the same case are not interleaved.
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.state == CaseState.CLOSED:
        raise PlaybookConflict("the case is closed; reopen it to tick a step")
    playbook = playbook_for_case(case=locked)
    state = next((s for s in playbook.steps if s.step.id == step_id and s.in_playbook), None)
    if state is None:
        raise PlaybookStepNotFound(step_id, playbook)
    if state.tick is not None:
        raise PlaybookConflict(
            f"step {step_id!r} was already ticked by {state.tick.ticked_by.username} at "
            f"{state.tick.ticked_at.isoformat()}"
        )
    note = _clean(note, what="the note")
    if state.step.ticked_by_hand and not note:
        raise PlaybookTickError(
            f"ticking {step_id!r} needs a note saying what was done (a reference, the service "
            "contacted) or why it was not needed"
        )
    tick = PlaybookStepTick.objects.create(
        case=locked,
        playbook_version=playbook.version,
        step_id=step_id,
        step_title=state.step.title,
        ticked_by=actor,
        ticked_at=timezone.now(),
        note=note,
    )
    audit_record(
        event_type=AuditEventType.PLAYBOOK_STEP_TICKED,
        actor=actor,
        source=source,
        target_type="case",
        target_id=locked.pk,
        data={
            "step": step_id,
            "kind": state.step.kind.value,
            "required": state.step.required,
            "playbook_version": playbook.version,
            # The note is the case's record; the audit log keeps its length, as for notes.
            "note_length": len(note),
        },
    )
    return tick


@transaction.atomic
def case_close(*, case: Case, actor: User, source: AuditSource, reason: str = "") -> Case:
    """Close a decided or actioned case. Refused while a required playbook step is unticked,
    unless a lead (`cases:case:assign`) closes it with a reason, which is audited with the
    steps it skipped."""
    if not actor.has_permission(Permission.CASES_CASE_CLOSE):
        raise CasePermissionDenied(actor, CaseTransition.CLOSE)
    locked = Case.objects.select_for_update().get(pk=case.pk)
    # The lifecycle's answer first: closing a case in review is wrong whatever its steps.
    next_state(CaseState(locked.state), CaseTransition.CLOSE)
    reason = _clean(reason, what="the reason")
    playbook = playbook_for_case(case=locked)
    missing = playbook.unticked_required
    if missing:
        named = "; ".join(f"{s.step.title} ({s.step.id})" for s in missing)
        ids = [s.step.id for s in missing]
        if not actor.has_permission(Permission.CASES_CASE_ASSIGN):
            raise PlaybookIncomplete(
                f"cannot close: required playbook steps are not ticked: {named}. Tick them, or "
                "ask a lead to close the case with a reason",
                missing=ids,
            )
        if not reason:
            raise PlaybookIncomplete(
                f"cannot close: required playbook steps are not ticked: {named}. To close the "
                "case anyway, give a reason",
                missing=ids,
            )
        audit_record(
            event_type=AuditEventType.PLAYBOOK_STEPS_WAIVED,
            actor=actor,
            source=source,
            target_type="case",
            target_id=locked.pk,
            data={"steps": ids, "reason": reason, "playbook_version": playbook.version},
        )
    return case_transition(
        case=locked, transition=CaseTransition.CLOSE, actor=actor, source=source, reason=reason
    )
