"""Concurrent intake: retries of one key never duplicate, and one new suspect gets one case."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from safeguard.accounts.permissions import Role
from safeguard.accounts.services import user_create
from safeguard.audit.events import AuditSource
from safeguard.cases.models import Case
from safeguard.intake.models import Escalation
from safeguard.intake.schemas import EscalationIn
from safeguard.intake.services import escalation_intake
from tests.audit_helpers import audit_log_intact
from tests.conftest import escalation_body

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WORKERS = 8


def _run_concurrently(bodies: list[dict[str, Any]]) -> list[Any]:
    caller = user_create(username="platform", role=Role.SERVICE, actor=None, source=AuditSource.CLI)

    def one(body: dict[str, Any]) -> Any:
        try:
            return escalation_intake(payload=EscalationIn.model_validate(body), caller=caller)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(one, bodies))


def test_concurrent_retries_of_one_key_make_one_escalation() -> None:
    results = _run_concurrently([escalation_body()] * WORKERS)

    assert Escalation.objects.count() == 1
    assert len({r.escalation.pk for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert audit_log_intact()


def test_concurrent_reports_on_one_new_suspect_make_one_case() -> None:
    bodies = [
        escalation_body(
            external_id=f"e{i}",
            content=[],
            subjects=[{"platform_id": "user:new-suspect", "role": "suspect"}],
        )
        for i in range(WORKERS)
    ]

    results = _run_concurrently(bodies)

    assert Escalation.objects.count() == WORKERS
    assert Case.objects.count() == 1
    assert len({r.escalation.case_link.case_id for r in results}) == 1
    assert audit_log_intact()
