"""Paging: send, deliver (webhook with retries, e-mail), acknowledge, escalate if unanswered."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.models import Case, Queue
from safeguard.cases.workflow import Priority
from safeguard.core import webhooks
from safeguard.core.errors import Forbidden
from safeguard.core.tasks import enqueue
from safeguard.rota import tasks
from safeguard.rota.models import Page, PageKind
from safeguard.rota.oncall import oncall_lead, oncall_person

MAX_WEBHOOK_ATTEMPTS = 8


class PageError(Forbidden):
    pass


def _send(
    *, case: Case, kind: PageKind, recipient: User, incident: uuid.UUID, round_: int, message: str
) -> Page:
    page = Page.objects.create(
        incident=incident,
        kind=kind.value,
        case=case,
        recipient=recipient,
        round=round_,
        message=message,
        created_at=timezone.now(),
    )
    audit_record(
        event_type=AuditEventType.PAGE_SENT,
        actor=None,
        source=AuditSource.SYSTEM,
        target_type="case",
        target_id=case.pk,
        data={"page": str(page.pk), "kind": kind.value, "to": recipient.username, "round": round_},
    )
    # Sent if and only if the change that caused it commits, on every task backend.
    enqueue(tasks.page_deliver, page_id=str(page.pk), attempt=1)
    return page


def page_p0(*, case: Case, reason: str) -> list[Page]:
    """Page the first person on call about a P0 at once; unacknowledged, it escalates.
    Subscribed to `triage.hooks.case_became_p0`."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("page_p0 must run inside the transaction that made the case P0")
    incident = uuid.uuid4()
    first = oncall_person(0)
    recipients = [first] if first is not None else []
    if not recipients:
        # Nobody configured on call: the lead is paged rather than no one.
        lead = oncall_lead()
        recipients = [lead] if lead is not None else []
    message = f"P0 case {case.pk}: {reason}"[:500]
    pages = [
        _send(
            case=case, kind=PageKind.P0, recipient=r, incident=incident, round_=0, message=message
        )
        for r in recipients
    ]
    if pages:
        enqueue(
            tasks.page_check_acknowledged,
            run_after=timezone.now() + timedelta(seconds=settings.SAFEGUARD_PAGE_ACK_SECONDS),
            incident=str(incident),
            round_=0,
        )
    return pages


def page_notice(*, case: Case, kind: PageKind, recipients: list[User], message: str) -> list[Page]:
    """A one-off notice (deadline warning or breach); no acknowledgement chain."""
    incident = uuid.uuid4()
    return [
        _send(case=case, kind=kind, recipient=r, incident=incident, round_=0, message=message)
        for r in {u.pk: u for u in recipients}.values()
    ]


def page_escalate_if_unacknowledged(*, incident: uuid.UUID, round_: int) -> list[Page]:
    """Called when a P0 page's acknowledgement window ends: page the next person and the lead."""
    with transaction.atomic():
        pages = list(Page.objects.select_for_update().filter(incident=incident).order_by("round"))
        if not pages or any(p.acknowledged_at for p in pages):
            return []
        case = pages[0].case
        next_round = round_ + 1
        recipients: list[User] = []
        nxt = oncall_person(next_round)
        if nxt is not None:
            recipients.append(nxt)
        lead = oncall_lead()
        if lead is not None and lead not in recipients:
            recipients.append(lead)
        already = {(p.recipient_id, p.round) for p in pages}
        # The first page already names the case and the reason ("P0 case …: …"): said once.
        message = f"UNACKNOWLEDGED {pages[0].message}"[:500]
        sent = [
            _send(
                case=case,
                kind=PageKind.P0,
                recipient=r,
                incident=incident,
                round_=next_round,
                message=message,
            )
            for r in recipients
            if (r.pk, next_round) not in already
        ]
        audit_record(
            event_type=AuditEventType.PAGE_ESCALATED,
            actor=None,
            source=AuditSource.TASK,
            target_type="case",
            target_id=case.pk,
            data={
                "incident": str(incident),
                "round": next_round,
                "to": [p.recipient.username for p in sent],
            },
        )
        # Keep escalating down the list while it lasts; the lead has been paged at each step.
        if nxt is not None:
            enqueue(
                tasks.page_check_acknowledged,
                run_after=timezone.now() + timedelta(seconds=settings.SAFEGUARD_PAGE_ACK_SECONDS),
                incident=str(incident),
                round_=next_round,
            )
        return sent


def _payload(page: Page) -> dict[str, object]:
    return {
        "type": "safeguard.page",
        "page_id": str(page.pk),
        "incident": str(page.incident),
        "kind": page.kind,
        "case_id": str(page.case_id),
        "to": page.recipient.username,
        "round": page.round,
        "message": page.message,
        "created_at": page.created_at.isoformat(),
    }


def page_deliver_attempt(*, page_id: uuid.UUID, attempt: int) -> bool | None:
    """Try to deliver a page once. True: delivered; False: retry later; None: give up or done."""
    page = Page.objects.select_related("recipient").filter(pk=page_id).first()
    if page is None or page.delivered_at is not None:
        return None
    url = settings.SAFEGUARD_PAGING_WEBHOOK_URL
    # One delivery id per page: a retry sends the same, so the pager acts on it once.
    result = (
        webhooks.deliver(
            url,
            _payload(page),
            settings.SAFEGUARD_PAGING_WEBHOOK_SECRET,
            delivery_id=f"page-{page.pk}",
        )
        if url
        else None
    )
    emailed = False
    if page.emailed_at is None and page.recipient.email:
        send_mail(
            subject=f"[Safeguard {page.kind}] case {page.case_id}",
            message=f"{page.message}\n\nAcknowledge in the console or with "
            f"POST /api/v1/pages/{page.pk}/ack",
            from_email=None,
            recipient_list=[page.recipient.email],
        )
        emailed = True
    with transaction.atomic():
        locked = Page.objects.select_for_update().get(pk=page.pk)
        now = timezone.now()
        if emailed:
            locked.emailed_at = now
        locked.webhook_attempts = attempt if result is not None else locked.webhook_attempts
        delivered = result is None or result.ok
        if delivered:
            locked.delivered_at = now
        locked.save(update_fields=["emailed_at", "webhook_attempts", "delivered_at"])
        audit_record(
            event_type=(
                AuditEventType.PAGE_DELIVERED if delivered else AuditEventType.PAGE_DELIVERY_FAILED
            ),
            actor=None,
            source=AuditSource.TASK,
            target_type="case",
            target_id=locked.case_id,
            data={
                "page": str(locked.pk),
                "attempt": attempt,
                "webhook": None if result is None else (result.status, result.error),
                "email": emailed,
            },
        )
    if delivered:
        return True
    return False if attempt < MAX_WEBHOOK_ATTEMPTS else None


@transaction.atomic
def page_acknowledge(*, page: Page, actor: User, source: AuditSource) -> Page:
    """The paged person (or a lead) takes the page; every page of its incident is answered."""
    if page.recipient_id != actor.pk and not actor.has_permission(Permission.CASES_CASE_ASSIGN):
        raise PageError(f"{actor.username} was not paged and is not a lead")
    now = timezone.now()
    pages = Page.objects.select_for_update().filter(incident=page.incident)
    if all(p.acknowledged_at for p in pages):
        return Page.objects.get(pk=page.pk)
    pages.filter(acknowledged_at__isnull=True).update(acknowledged_at=now, acknowledged_by=actor)
    audit_record(
        event_type=AuditEventType.PAGE_ACKNOWLEDGED,
        actor=actor,
        source=source,
        target_type="case",
        target_id=page.case_id,
        data={"page": str(page.pk), "incident": str(page.incident)},
    )
    return Page.objects.get(pk=page.pk)


def _answer_open_pages(*, case: Case, actor: User, by: list[str], source: AuditSource) -> int:
    """`actor` acted on `case`: every open page about it is answered by that act, as if
    acknowledged by them, so that no unanswered P0 escalates. Returns how many were open."""
    pages = list(
        Page.objects.select_for_update()
        .filter(case=case, acknowledged_at__isnull=True)
        .order_by("created_at", "round")
    )
    if not pages:
        return 0
    now = timezone.now()
    Page.objects.filter(pk__in=[p.pk for p in pages]).update(
        acknowledged_at=now, acknowledged_by=actor
    )
    for incident in dict.fromkeys(p.incident for p in pages):
        answered = [p for p in pages if p.incident == incident]
        audit_record(
            event_type=AuditEventType.PAGE_ANSWERED_BY_ACTION,
            actor=actor,
            source=source,
            target_type="case",
            target_id=case.pk,
            data={
                "incident": str(incident),
                "pages": [str(p.pk) for p in answered],
                "kind": answered[0].kind,
                "by": by,
            },
        )
    return len(pages)


def page_answer_by_claim(*, case: Case, actor: User, source: AuditSource) -> None:
    """Subscribed to `cases.hooks.case_claimed`: taking the case answers its open pages (the
    clock runs on: a claim is not the first action)."""
    _answer_open_pages(case=case, actor=actor, by=["claim"], source=source)


def page_answer_by_action(*, case: Case, actor: User, acts: list[str], source: AuditSource) -> None:
    """Subscribed to `cases.hooks.case_first_action`: acting on the case answers its open
    pages; `acts` says which (decision, platform_action, escalation_to_lead, referral)."""
    _answer_open_pages(case=case, actor=actor, by=[str(a) for a in acts], source=source)


def page_released_before_action(
    *, case: Case, actor: User | None, how: str, source: AuditSource
) -> None:
    """Subscribed to `cases.hooks.case_released_before_action`: a P0 back in its queue with
    nobody having acted pages the on-call again at once (a new incident, escalating as any)."""
    if case.priority != Priority.P0:
        return
    page_p0(case=case, reason=f"released before anyone acted ({how})")


def deadline_notify(*, case: Case, kind: str, message: str) -> None:
    """Subscribed to `triage.hooks.deadline_passed`: a warning goes to the holder (or, with
    nobody holding the case, the leads); a breach to the queue's lead and the on-call lead, and
    for a P0 also to the first person on call."""
    leads = []
    queue = Queue.objects.filter(name=case.queue).select_related("lead").first()
    if queue is not None and queue.lead is not None:
        leads.append(queue.lead)
    on_call = oncall_lead()
    if on_call is not None:
        leads.append(on_call)
    if kind == "warning":
        recipients = [case.holder] if case.holder is not None else leads
        page_kind = PageKind.DEADLINE_WARNING
    else:
        recipients, page_kind = list(leads), PageKind.DEADLINE_BREACH
        first = oncall_person(0) if case.priority == Priority.P0 else None
        if first is not None:
            recipients.insert(0, first)
    page_notice(case=case, kind=page_kind, recipients=recipients, message=message)
