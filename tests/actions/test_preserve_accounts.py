"""Preserving the accounts a law-enforcement request names, with no content: requested, carried
to the (demo) platform signed, done, and the case actioned (issue 10, item 9)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from safeguard.accounts.permissions import Role
from safeguard.actions.models import Action, ActionStatus
from safeguard.actions.platform_sim import DemoPlatform
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.deciding import case_decide
from safeguard.cases.decisions import ActionKind, DecisionLabel, Referral
from safeguard.cases.models import Queue
from safeguard.cases.queues import queue_claim_next
from tests.audit_helpers import assert_audited
from tests.cases.test_first_action import LE_EMERGENCY
from tests.conftest import ApiClient, case_of
from tests.factories import UserFactory
from tests.tasks import run_tasks

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SECRET = b"preserve-test-secret"
E = AuditEventType


def test_preserving_named_accounts_reaches_the_platform(
    service_api: ApiClient, settings: Any
) -> None:
    sim = DemoPlatform(SECRET, platform=settings.SAFEGUARD_PLATFORM).start()
    try:
        settings.SAFEGUARD_PLATFORM_WEBHOOK_SECRET = SECRET
        settings.SAFEGUARD_PLATFORM_WEBHOOK_URL = sim.url
        case = case_of(service_api.post("/api/v1/escalations", LE_EMERGENCY))
        specialist = UserFactory(role=Role.SPECIALIST.value)
        queue_claim_next(
            queue=Queue.objects.get(name=case.queue),
            actor=specialist,
            lease=timedelta(minutes=10),
            source=AuditSource.API,
        )

        case_decide(
            case=case,
            actor=specialist,
            labels=[DecisionLabel.IMMINENT_DANGER, DecisionLabel.LAW_ENFORCEMENT_REQUEST],
            reason="Preserve the named accounts; refer to law-enforcement response.",
            actions=[ActionKind.PRESERVE],
            referrals=[Referral.LAW_ENFORCEMENT],
            source=AuditSource.API,
        )
        run_tasks(within=timedelta(minutes=1))
    finally:
        sim.stop()

    assert sorted((a["kind"], a["target"]["type"], a["target"]["id"]) for a in sim.received) == [
        ("preserve", "account", "user:le-suspect"),
        ("preserve", "account", "user:le-victim"),
    ]
    assert set(Action.objects.values_list("status", flat=True)) == {ActionStatus.CONFIRMED}
    case.refresh_from_db()
    assert case.state == "actioned"
    for action in Action.objects.all():
        assert_audited(E.ACTION_CONFIRMED, target=case, data={"action": str(action.pk)})
