"""Outbound emergency referrals: from a case, a specialist or lead refers a child in imminent
danger to the police of the right country, with a structured summary; the agency's
acknowledgement has a clock that pages the lead."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.clock import FirstAction
from safeguard.cases.deciding import case_act_outside
from safeguard.cases.models import Case, Queue
from safeguard.cases.playbook_selectors import playbook_for_case
from safeguard.cases.playbook_services import playbook_step_tick
from safeguard.cases.playbooks import StepKind
from safeguard.core.errors import Conflict, Forbidden, Invalid
from safeguard.core.tasks import enqueue
from safeguard.intake.models import EscalationContent, EscalationSubject
from safeguard.lawenforcement import tasks
from safeguard.lawenforcement.directory import EU, Channel, DirectoryError, directory
from safeguard.lawenforcement.models import Referral
from safeguard.rota.models import PageKind
from safeguard.rota.oncall import oncall_lead
from safeguard.rota.services import page_notice


class ReferralRefused(Invalid):
    pass


class ReferralForbidden(Forbidden):
    pass


class ReferralConflict(Conflict):
    pass


def referral_summary(case: Case) -> dict[str, Any]:
    """What the police need to act at once, built from the case: why it is urgent (triage's
    explanation), who is at risk (age, country), who is suspected, what was seen and when.
    Identifiers and times only: the content itself goes through legal process, not here."""
    links = list(case.links.select_related("escalation").order_by("escalation__received_at"))
    escalations = [link.escalation for link in links]
    subjects = EscalationSubject.objects.filter(escalation__in=escalations).select_related(
        "subject"
    )
    content = EscalationContent.objects.filter(escalation__in=escalations).select_related("content")
    return {
        "case": str(case.pk),
        "priority": case.priority,
        "why": case.explanation,
        "reported": [
            {
                "received_at": e.received_at.isoformat(),
                "occurred_at": e.occurred_at.isoformat() if e.occurred_at else None,
                "channel": e.channel,
                "category": e.category,
                "summary": e.summary[:2000],
            }
            for e in escalations
        ],
        "victims": sorted(
            {(s.subject.platform_id, s.age or 0, s.country) for s in subjects if s.role == "victim"}
        ),
        "suspects": sorted({s.subject.platform_id for s in subjects if s.role == "suspect"}),
        "content": sorted(
            {(c.content.platform_id, c.content.kind, c.content.blob_id or "") for c in content}
        ),
        "platform": settings.SAFEGUARD_PLATFORM,
    }


def _message(referral: Referral) -> str:
    summary = referral.summary
    lines = [
        f"Emergency referral from {settings.SAFEGUARD_PLATFORM} "
        f"(Safeguard case {summary['case']}).",
        f"Priority {summary['priority']}: {summary['why']}",
        "",
        f"Reason: {referral.reason}",
        "",
        "Children at risk (platform id, stated age, country):",
        *[
            f"  {pid}, {age or 'age unknown'}, {country or 'country unknown'}"
            for pid, age, country in summary["victims"]
        ],
        "Suspected accounts: " + (", ".join(summary["suspects"]) or "none named"),
        "",
        "Reports:",
        *[
            f"  {r['received_at']} ({r['channel']}, {r['category']}): {r['summary']}"
            for r in summary["reported"]
        ],
        "",
        f"Please acknowledge with your reference number. Referral id: {referral.pk}",
    ]
    return "\n".join(lines)


def _tick_playbook(case: Case, referral: Referral, actor: User, source: AuditSource) -> None:
    """The case's playbook asks for a referral (triage's priority and the category choose the
    playbook): the referral ticks its referral steps itself, naming the agency."""
    playbook = playbook_for_case(case=case)
    for state in playbook.steps:
        if state.in_playbook and state.tick is None and state.step.kind is StepKind.REFERRAL:
            playbook_step_tick(
                case=case,
                step_id=state.step.id,
                actor=actor,
                note=f"referred to {referral.agency_name} by {referral.channel} "
                f"(referral {referral.pk}); acknowledgement awaited",
                source=source,
            )


@transaction.atomic
def referral_send(
    *,
    case: Case,
    agency_key: str,
    reason: str,
    actor: User,
    source: AuditSource,
    dsa_article_18: bool = False,
) -> Referral:
    """Refer the case's child to an agency of the directory. An e-mail agency is written to at
    once; for a portal or phone agency the specialist records that they made contact. Either
    way the referral is an action on the case (its first-action clock stops) and the agency's
    acknowledgement is awaited on a clock that pages the lead."""
    if not actor.has_permission(Permission.LE_REFERRAL_CREATE):
        raise ReferralForbidden(f"{actor.username} may not refer cases to the police")
    if len(reason.strip()) < 10:
        raise ReferralRefused("say why the child is in danger (10 characters or more)")
    try:
        book = directory(settings.SAFEGUARD_LE_DIRECTORY)
        agency = book.get(agency_key)
    except DirectoryError as exc:
        raise ReferralRefused(str(exc)) from None
    locked = Case.objects.select_for_update().get(pk=case.pk)
    now = timezone.now()
    referral = Referral.objects.create(
        case=locked,
        country=agency.country,
        agency_key=agency.key,
        agency_name=agency.name,
        directory_version=book.version,
        channel=agency.channel.value,
        address=agency.address,
        summary=referral_summary(locked),
        reason=reason.strip(),
        dsa_article_18=dsa_article_18 or agency.country == EU,
        sent_by=actor,
        sent_at=now,
        ack_due_at=now + timedelta(minutes=settings.SAFEGUARD_LE_REFERRAL_ACK_MINUTES),
    )
    if agency.channel is Channel.EMAIL:
        message = EmailMessage(
            subject=f"URGENT: child at risk, referral {referral.pk}",
            body=_message(referral),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[agency.address],
        )
        # Sent once the referral is durable: a rolled-back referral sends nothing.
        transaction.on_commit(lambda: message.send(fail_silently=False))
    audit_record(
        event_type=AuditEventType.LE_REFERRAL_SENT,
        actor=actor,
        source=source,
        target_type="case",
        target_id=locked.pk,
        data={
            "referral": str(referral.pk),
            "agency": agency.key,
            "agency_name": agency.name,
            "channel": agency.channel.value,
            "directory_version": book.version,
            "dsa_article_18": referral.dsa_article_18,
            "ack_due_at": referral.ack_due_at.isoformat(),
        },
    )
    case_act_outside(case=locked, actor=actor, act=FirstAction.REFERRAL, source=source)
    _tick_playbook(locked, referral, actor, source)
    enqueue(
        tasks.le_referral_ack_due,
        run_after=referral.ack_due_at,
        referral_id=str(referral.pk),
        due=referral.ack_due_at.isoformat(),
    )
    return referral


@transaction.atomic
def referral_acknowledge(
    *, referral: Referral, agency_reference: str, actor: User, source: AuditSource
) -> Referral:
    """The agency acknowledged the referral and gave its reference number."""
    if not actor.has_permission(Permission.LE_REFERRAL_CREATE):
        raise ReferralForbidden(f"{actor.username} may not record referral acknowledgements")
    reference = agency_reference.strip()
    if not reference or len(reference) > 200:
        raise ReferralRefused("the agency's reference number is needed (up to 200 characters)")
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if locked.acknowledged_at is not None:
        raise ReferralConflict(
            f"the referral was already acknowledged with reference {locked.agency_reference!r}"
        )
    locked.acknowledged_at = timezone.now()
    locked.acknowledged_by = actor
    locked.agency_reference = reference
    locked.save(update_fields=["acknowledged_at", "acknowledged_by", "agency_reference"])
    audit_record(
        event_type=AuditEventType.LE_REFERRAL_ACKNOWLEDGED,
        actor=actor,
        source=source,
        target_type="case",
        target_id=locked.case_id,
        data={"referral": str(locked.pk), "agency_reference": reference},
    )
    return locked


@transaction.atomic
def referral_ack_overdue(*, referral_id: uuid.UUID, due: str) -> str:
    """Nobody recorded the agency's acknowledgement in time: page the case's queue lead and the
    on-call lead, once."""
    referral = Referral.objects.select_for_update().filter(pk=referral_id).first()
    if referral is None:
        return "no such referral"
    if referral.acknowledged_at is not None:
        return "acknowledged"
    if referral.overdue_at is not None or referral.ack_due_at.isoformat() != due:
        return "already paged"
    referral.overdue_at = timezone.now()
    referral.save(update_fields=["overdue_at"])
    case = referral.case
    leads: list[User] = []
    queue = Queue.objects.filter(name=case.queue).select_related("lead").first()
    if queue is not None and queue.lead is not None and queue.lead.is_active:
        leads.append(queue.lead)
    lead = oncall_lead()
    if lead is not None and lead not in leads:
        leads.append(lead)
    audit_record(
        event_type=AuditEventType.LE_REFERRAL_OVERDUE,
        actor=None,
        source=AuditSource.TASK,
        target_type="case",
        target_id=case.pk,
        data={"referral": str(referral.pk), "due": due, "paged": [u.username for u in leads]},
    )
    if leads:
        page_notice(
            case=case,
            kind=PageKind.DEADLINE_BREACH,
            recipients=leads,
            message=f"UNACKNOWLEDGED: referral of case {case.pk} to {referral.agency_name} "
            f"was due an acknowledgement at {due}",
        )
    return f"paged {len(leads)}"
