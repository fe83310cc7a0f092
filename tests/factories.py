"""factory_boy factories for the models tests build directly.

Escalations are immutable and grouped into cases as they arrive, so `EscalationFactory` files
through the real intake service (`escalation_intake`) rather than writing rows: what it makes
has its case, its triage and its audit events exactly as an escalation sent to the API would.
`CaseFactory` makes a bare case row in any state, for tests of the case itself (its lifecycle,
its queue); `filed_case` makes one as intake would, from an escalation.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import factory
from django.conf import settings
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.actions.models import Action, ActionStatus
from safeguard.audit.events import AuditSource
from safeguard.cases.decisions import ActionKind, DecisionKind, DecisionLabel
from safeguard.cases.models import Case, Decision
from safeguard.cases.workflow import CaseState, Priority
from safeguard.intake.models import Escalation
from safeguard.intake.schemas import EscalationIn
from safeguard.intake.services import escalation_intake
from safeguard.rota.models import Page, PageKind


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"person{n}")
    role = Role.SPECIALIST.value
    # Service accounts speak for the configured platform, as `users create --role service` does.
    platform = factory.LazyAttribute(
        lambda user: settings.SAFEGUARD_PLATFORM if user.role == Role.SERVICE.value else ""
    )
    password = factory.django.Password("correct-horse-battery")


class EscalationFactory(factory.Factory):
    """An escalation accepted by `escalation_intake`, as if sent to the API by `caller`.

    The attributes are the fields of the intake contract (validated as the API validates
    them); `caller` and `source` say who filed it and how.
    """

    class Meta:
        model = Escalation

    caller = factory.SubFactory(UserFactory, role=Role.SERVICE.value)
    source = AuditSource.API
    channel = "user_report"
    external_id = factory.Sequence(lambda n: f"factory-{n}")
    category = "other"
    summary = "A report."
    subjects = factory.Sequence(lambda n: [{"platform_id": f"user:suspect-{n}", "role": "suspect"}])
    content = factory.Sequence(
        lambda n: [{"platform_id": f"thread:{n}", "kind": "message_thread", "text": "hello"}]
    )
    law_enforcement = None

    @classmethod
    def _build(cls, model_class: type[Escalation], *args: Any, **kwargs: Any) -> Escalation:
        raise TypeError("an escalation exists only once intake accepted it: use create()")

    @classmethod
    def _create(
        cls,
        model_class: type[Escalation],
        *args: Any,
        caller: User,
        source: AuditSource,
        **body: Any,
    ) -> Escalation:
        fields = {key: value for key, value in body.items() if value is not None}
        payload = EscalationIn.model_validate_json(json.dumps(fields))
        return escalation_intake(payload=payload, caller=caller, source=source).escalation


def filed_case(*, queue: str | None = None, **escalation: Any) -> Case:
    """The case an escalation filed through intake opened (or joined), moved to `queue` if
    given, as a team member would route it."""
    filed = EscalationFactory(**escalation)
    case = Case.objects.get(links__escalation=filed)
    if queue is not None:
        Case.objects.filter(pk=case.pk).update(queue=queue)
        case.refresh_from_db()
    return case


class CaseFactory(factory.django.DjangoModelFactory):
    """A case row in the state asked for, with no escalation in it."""

    class Meta:
        model = Case

    state = CaseState.TRIAGED
    opened_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("opened_at")
    priority = Priority.P2
    queue = "general"
    explanation = "made by a test factory"
    closed_at = factory.Maybe(
        factory.LazyAttribute(lambda case: case.state == CaseState.CLOSED),
        yes_declaration=factory.SelfAttribute("updated_at"),
        no_declaration=None,
    )


class DecisionFactory(factory.django.DjangoModelFactory):
    """A recorded decision on a case (the row only: `case_decide` is what tests of deciding
    call)."""

    class Meta:
        model = Decision

    case = factory.SubFactory(CaseFactory, state=CaseState.DECIDED)
    kind = DecisionKind.DECISION.value
    decided_by = factory.SubFactory(UserFactory)
    labels = factory.LazyFunction(lambda: [DecisionLabel.GROOMING.value])
    reason = "matches the grooming policy"
    decided_at = factory.LazyFunction(timezone.now)


class ActionFactory(factory.django.DjangoModelFactory):
    """An action on the host platform, as `action_request` records it (without delivery)."""

    class Meta:
        model = Action

    case = factory.SubFactory(CaseFactory, state=CaseState.DECIDED)
    decision = None
    kind = ActionKind.BAN_ACCOUNT.value
    target_type = "account"
    target_id = factory.Sequence(lambda n: f"user:acted-on-{n}")
    platform = factory.LazyFunction(lambda: settings.SAFEGUARD_PLATFORM)
    status = ActionStatus.PENDING.value
    requested_by = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(timezone.now)


class PageFactory(factory.django.DjangoModelFactory):
    """A P0 page to one person about one case, not yet delivered or acknowledged."""

    class Meta:
        model = Page

    incident = factory.LazyFunction(uuid.uuid4)
    kind = PageKind.P0.value
    case = factory.SubFactory(CaseFactory, priority=Priority.P0, queue="emergency")
    recipient = factory.SubFactory(UserFactory)
    round = 0
    message = factory.LazyAttribute(lambda page: f"P0 case {page.case.pk}: a test page")
    created_at = factory.LazyFunction(timezone.now)
