"""Tasks on RQ against the real Redis on this machine: a P0 page and a platform action are
delivered, with the worker already running before the transaction that asked for them commits.

On a machine without Redis (a user's fresh machine) these tests are skipped with the reason;
CI starts Redis and sets SAFEGUARD_REQUIRE_REDIS=1, so there they fail instead of skipping.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connections, transaction
from django.test import override_settings

from safeguard.accounts.permissions import Role
from safeguard.actions.models import Action, ActionStatus
from safeguard.audit.events import AuditSource
from safeguard.cases.deciding import case_decide
from safeguard.cases.decisions import ActionKind, DecisionLabel
from safeguard.cases.models import Case
from safeguard.cases.queues import lease_length, queue_claim_next, queue_get_for
from safeguard.core.tasks import NotInTransaction, enqueue
from safeguard.intake.schemas import EscalationIn
from safeguard.intake.services import escalation_intake
from safeguard.rota.models import Page
from safeguard.rota.tasks import page_deliver
from tests.conftest import escalation_body
from tests.factories import UserFactory
from tests.receiver import Receiver, receiver

redis = pytest.importorskip("redis")
rq = pytest.importorskip("rq")
TimerDeathPenalty = pytest.importorskip("rq.timeouts").TimerDeathPenalty

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# A database of its own on the local Redis, emptied before and after each test.
REDIS_URL = os.environ.get("SAFEGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
RQ_SETTINGS = {
    "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
    "RQ_QUEUES": {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60}},
}
SECRET = b"rq-test-secret"
WAIT_SECONDS = 20.0


def _redis() -> Any:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("SAFEGUARD_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis at {REDIS_URL} is required here and does not answer: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL} ({exc}); CI starts one and runs these tests")
    return client


class _ThreadWorker(rq.SimpleWorker):  # type: ignore[misc, name-defined]
    """RQ's worker in this process (so it sees the test database), without the signal
    handlers and the SIGALRM job timeout that only the main thread may install."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass


@dataclass
class RunningWorker:
    """The queue, and the worker thread's rounds: each round works the queue until it is empty
    and then tells whoever waits, so a test waits for the worker instead of for the clock."""

    queue: Any
    rounds: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)

    def round_done(self) -> None:
        with self.changed:
            self.rounds += 1
            self.changed.notify_all()

    def had_its_chance(self) -> None:
        """Return once a whole round of the worker began and ended after this call: anything in
        the queue by now has been taken and run."""
        with self.changed:
            target = self.rounds + 2
            if not self.changed.wait_for(lambda: self.rounds >= target, timeout=WAIT_SECONDS):
                raise AssertionError("the worker did not finish a round")

    def until(self, condition: Callable[[], bool], what: str) -> None:
        """Return once `condition` holds, looking again after each round of the worker."""
        with self.changed:
            if not self.changed.wait_for(condition, timeout=WAIT_SECONDS):
                raise AssertionError(f"timed out waiting for {what}")

    def jobs_run(self) -> int:
        """Jobs the worker started, finished or failed: none may run before the commit."""
        return sum(
            registry(queue=self.queue).count
            for registry in (
                rq.registry.StartedJobRegistry,
                rq.registry.FinishedJobRegistry,
                rq.registry.FailedJobRegistry,
            )
        )


@pytest.fixture
def rq_worker() -> Iterator[RunningWorker]:
    """RQ settings, an empty Redis database, and a worker running in a thread from the start."""
    client = _redis()
    client.flushdb()
    stop = threading.Event()
    with override_settings(**RQ_SETTINGS):
        from django_tasks_rq import Job

        running = RunningWorker(rq.Queue("default", connection=client, job_class=Job))
        worker = _ThreadWorker([running.queue], connection=client, job_class=Job)

        def run() -> None:
            try:
                while not stop.is_set():
                    worker.work(burst=True, logging_level="WARNING")
                    running.round_done()
                    # Between rounds the worker idles as a real one polls; waiting tests are
                    # woken by `round_done`, not by this pause.
                    stop.wait(0.05)
            finally:
                # The worker thread's own database connection ends with it.
                connections.close_all()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            yield running
        finally:
            stop.set()
            thread.join(timeout=10)
            client.flushdb()


def _p0(external_id: str) -> EscalationIn:
    return EscalationIn.model_validate(
        escalation_body(
            external_id=external_id,
            channel="law_enforcement",
            category="imminent_danger",
            law_enforcement={
                "agency": "Example Police (fictional)",
                "country": "US",
                "request_type": "emergency_disclosure",
                "contact": "desk@police.example",
            },
        )
    )


def _delivered(hook: Receiver, key: str) -> list[Any]:
    return [b[key] for b in hook.bodies() if isinstance(b, dict) and key in b]


def test_a_p0_page_reaches_the_receiver_only_after_the_commit(
    rq_worker: RunningWorker, settings: Any
) -> None:
    UserFactory(username="first.oncall")
    settings.SAFEGUARD_ONCALL = ["first.oncall"]
    settings.SAFEGUARD_PAGING_WEBHOOK_SECRET = SECRET
    caller = UserFactory(role=Role.LE_PARTNER.value)
    with receiver(SECRET) as hook:
        settings.SAFEGUARD_PAGING_WEBHOOK_URL = hook.url
        with transaction.atomic():
            escalation_intake(payload=_p0("rq-1"), caller=caller)
            # The worker is running, but nothing has reached Redis before the commit: a task
            # sent now would find no page row and give up.
            rq_worker.had_its_chance()
            assert rq_worker.queue.count == 0
            assert rq_worker.jobs_run() == 0
            assert hook.received == []

        rq_worker.until(lambda: _delivered(hook, "to") == ["first.oncall"], "the P0 page")
        page = Page.objects.get()
        assert page.delivered_at is not None


def _intake_then_fail(caller: Any) -> None:
    with transaction.atomic():
        escalation_intake(payload=_p0("rq-2"), caller=caller)
        raise RuntimeError("refused after the page was asked for")


def test_a_rolled_back_change_sends_nothing(rq_worker: RunningWorker, settings: Any) -> None:
    UserFactory(username="first.oncall")
    settings.SAFEGUARD_ONCALL = ["first.oncall"]
    settings.SAFEGUARD_PAGING_WEBHOOK_SECRET = SECRET
    caller = UserFactory(role=Role.LE_PARTNER.value)
    with receiver(SECRET) as hook:
        settings.SAFEGUARD_PAGING_WEBHOOK_URL = hook.url
        with pytest.raises(RuntimeError, match="refused"):
            _intake_then_fail(caller)
        rq_worker.had_its_chance()

        assert rq_worker.queue.count == 0
        assert rq_worker.jobs_run() == 0
        assert hook.received == []
        assert not Page.objects.exists()


def test_an_action_reaches_the_platform_after_the_decision_commits(
    rq_worker: RunningWorker, settings: Any
) -> None:
    settings.SAFEGUARD_PLATFORM_WEBHOOK_SECRET = SECRET
    service = UserFactory(role=Role.SERVICE.value)
    body = escalation_body(external_id="rq-3")
    escalation = escalation_intake(
        payload=EscalationIn.model_validate(body), caller=service
    ).escalation
    Case.objects.filter(pk=escalation.case_link.case_id).update(queue="general")
    specialist = UserFactory(role=Role.SPECIALIST.value)
    with receiver(SECRET, reply=b'{"status": "accepted"}') as platform:
        settings.SAFEGUARD_PLATFORM_WEBHOOK_URL = platform.url
        queue = queue_get_for(user=specialist, name="general")
        # The intake's own tasks (the audit sequencer) run first: a worker in this process
        # would otherwise wait for the SQLite write lock the transaction below holds.
        rq_worker.until(lambda: rq_worker.queue.count == 0, "the intake's tasks")
        rq_worker.had_its_chance()
        before = rq_worker.jobs_run()
        with transaction.atomic():
            case = queue_claim_next(
                queue=queue, actor=specialist, lease=lease_length(None), source=AuditSource.API
            )
            assert case is not None
            case_decide(
                case=case,
                actor=specialist,
                labels=[DecisionLabel.GROOMING],
                actions=[ActionKind.RESTRICT_ACCOUNT],
                reason="An adult asks a child for secrecy (invented).",
                source=AuditSource.API,
            )
            rq_worker.had_its_chance()
            assert rq_worker.queue.count == 0
            assert rq_worker.jobs_run() == before
            assert platform.received == []

        rq_worker.until(lambda: bool(_delivered(platform, "action_id")), "the action delivery")
        action = Action.objects.get()
        rq_worker.until(lambda: Action.objects.get().status == ActionStatus.SENT, "the action sent")
        assert _delivered(platform, "action_id") == [str(action.pk)]


def test_enqueue_refuses_to_run_outside_a_transaction(rq_worker: RunningWorker) -> None:
    with pytest.raises(NotInTransaction, match="inside the transaction"):
        enqueue(page_deliver, page_id="00000000-0000-0000-0000-000000000000", attempt=1)

    assert rq_worker.queue.count == 0


def test_audit_events_are_sequenced_by_the_worker_after_the_commit(
    rq_worker: RunningWorker,
) -> None:
    from safeguard.audit.models import AuditCheckpoint, AuditEvent
    from safeguard.audit.selectors import audit_log_verify

    service = UserFactory(role=Role.SERVICE.value)
    with transaction.atomic():
        escalation_intake(payload=EscalationIn.model_validate(escalation_body()), caller=service)
        rq_worker.had_its_chance()
        assert rq_worker.queue.count == 0
        assert rq_worker.jobs_run() == 0

    rq_worker.until(
        lambda: not AuditEvent.objects.filter(leaf_index__isnull=True).exists(), "the sequencer"
    )
    assert AuditCheckpoint.objects.get().size == AuditEvent.objects.count()
    assert audit_log_verify().ok
