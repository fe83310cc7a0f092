"""Receiving signed webhooks: the signature covers the timestamp and the delivery id, a timestamp
outside five minutes is refused, and one delivery is acted on once — checked with the pure
guard, against the demo platform over real HTTP, and through Safeguard's own retries."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from safeguard.actions.models import Action
from safeguard.actions.platform_sim import DemoPlatform
from safeguard.audit.events import AuditEventType
from safeguard.core.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Outcome,
    ReplayGuard,
    deliver,
    encode,
    post,
    sign,
    signed_headers,
    verify,
)
from tests.actions.test_decisions import claimed_case
from tests.audit_helpers import assert_audited
from tests.conftest import ApiClient
from tests.receiver import receiver
from tests.tasks import run_tasks

E = AuditEventType

SECRET = b"webhook-test-secret"
BODY = encode({"type": "safeguard.action", "kind": "ban_account"})
Y2001 = int(datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC).timestamp())


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def headers(
    *, timestamp: int, delivery_id: str = "d-1", body: bytes = BODY, secret: bytes = SECRET
) -> dict[str, str]:
    return signed_headers(secret, body, delivery_id=delivery_id, timestamp=timestamp)


# --- The pure guard -------------------------------------------------------------------------


def test_a_genuine_fresh_delivery_is_accepted_once_then_a_duplicate() -> None:
    clock = Clock(1_000_000.0)
    guard = ReplayGuard(clock=clock)
    sent = headers(timestamp=1_000_000)

    first = verify(SECRET, BODY, sent, guard=guard)
    second = verify(SECRET, BODY, sent, guard=guard)

    assert (first.outcome, first.accepted, first.http_status) == (Outcome.ACCEPTED, True, 200)
    assert (second.outcome, second.accepted) == (Outcome.DUPLICATE, False)


@pytest.mark.parametrize("offset", [-301, 301, -900_000, 10**9])
def test_a_timestamp_outside_five_minutes_is_refused_even_when_signed(offset: int) -> None:
    guard = ReplayGuard(clock=Clock(1_000_000.0))

    verdict = verify(SECRET, BODY, headers(timestamp=1_000_000 + offset), guard=guard)

    assert verdict.outcome is Outcome.STALE
    assert verdict.http_status == 401
    assert len(guard) == 0  # a refused delivery is not remembered


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_the_window_is_five_minutes_either_way(offset: int) -> None:
    guard = ReplayGuard(clock=Clock(1_000_000.0))
    assert verify(SECRET, BODY, headers(timestamp=1_000_000 + offset), guard=guard).accepted


def test_the_signature_covers_timestamp_delivery_id_and_body() -> None:
    guard = ReplayGuard(clock=Clock(1_000_000.0))
    good = headers(timestamp=1_000_000)

    tampered = [
        {**good, TIMESTAMP_HEADER: "1000001"},  # a replay made "fresh"
        {**good, DELIVERY_HEADER: "d-2"},  # a replay given a new id
        {**good, SIGNATURE_HEADER: sign(b"another-secret", 1_000_000, "d-1", BODY)},
    ]
    outcomes = [verify(SECRET, BODY, h, guard=guard).outcome for h in tampered]
    other_body = verify(SECRET, BODY + b" ", good, guard=guard).outcome

    assert outcomes == [Outcome.BAD_SIGNATURE] * 3
    assert other_body is Outcome.BAD_SIGNATURE
    assert len(guard) == 0  # forged requests never fill the guard
    assert verify(SECRET, BODY, good, guard=guard).accepted


@pytest.mark.parametrize(
    "broken",
    [
        {TIMESTAMP_HEADER: ""},
        {TIMESTAMP_HEADER: "12.5"},
        {TIMESTAMP_HEADER: "-5"},
        {TIMESTAMP_HEADER: "\u0661\u0660\u0660\u0660\u0660\u0660\u0660"},  # int() takes these
        {TIMESTAMP_HEADER: "9" * 40},
        {DELIVERY_HEADER: ""},
        {DELIVERY_HEADER: "has space"},
        {DELIVERY_HEADER: "x" * 200},
        {SIGNATURE_HEADER: ""},
    ],
)
def test_missing_or_unreadable_headers_are_refused(broken: dict[str, str]) -> None:
    guard = ReplayGuard(clock=Clock(1_000_000.0))
    sent = {**headers(timestamp=1_000_000), **broken}

    verdict = verify(SECRET, BODY, sent, guard=guard)

    assert verdict.outcome in (Outcome.MALFORMED, Outcome.BAD_SIGNATURE)
    assert verdict.http_status == 401
    assert len(guard) == 0


def test_an_id_is_remembered_for_as_long_as_it_could_be_replayed_and_then_forgotten() -> None:
    clock = Clock(1_000_000.0)
    guard = ReplayGuard(clock=clock)
    sent = headers(timestamp=1_000_000)
    assert verify(SECRET, BODY, sent, guard=guard).accepted

    clock.now += 300  # the last second the same request is inside the window
    assert verify(SECRET, BODY, sent, guard=guard).outcome is Outcome.DUPLICATE
    clock.now += 1  # now it is stale, and the guard no longer needs the id
    assert verify(SECRET, BODY, sent, guard=guard).outcome is Outcome.STALE
    assert len(guard) == 0


def test_a_later_retry_of_the_same_delivery_extends_its_memory() -> None:
    clock = Clock(1_000_000.0)
    guard = ReplayGuard(clock=clock)
    assert verify(SECRET, BODY, headers(timestamp=1_000_000), guard=guard).accepted
    clock.now += 200
    retry = headers(timestamp=1_000_200)  # the sender's retry: same id, new timestamp
    assert verify(SECRET, BODY, retry, guard=guard).outcome is Outcome.DUPLICATE

    clock.now += 250  # the first request's window is over; the retry's is not
    assert verify(SECRET, BODY, retry, guard=guard).outcome is Outcome.DUPLICATE


def test_the_guard_is_bounded_and_refuses_rather_than_forgets() -> None:
    clock = Clock(1_000_000.0)
    guard = ReplayGuard(clock=clock, max_entries=3)
    for n in range(3):
        sent = headers(timestamp=1_000_000, delivery_id=f"d{n}")
        assert verify(SECRET, BODY, sent, guard=guard).accepted

    full = verify(SECRET, BODY, headers(timestamp=1_000_000, delivery_id="d9"), guard=guard)
    replay = verify(SECRET, BODY, headers(timestamp=1_000_000, delivery_id="d0"), guard=guard)
    clock.now += 301  # every remembered id has left the window
    later = verify(SECRET, BODY, headers(timestamp=int(clock.now), delivery_id="d9"), guard=guard)

    assert (full.outcome, full.http_status) == (Outcome.BUSY, 503)
    assert replay.outcome is Outcome.DUPLICATE  # still remembered, never evicted early
    assert later.accepted
    assert len(guard) == 1


def test_a_released_id_is_acted_on_when_retried() -> None:
    guard = ReplayGuard(clock=Clock(1_000_000.0))
    sent = headers(timestamp=1_000_000)
    assert verify(SECRET, BODY, sent, guard=guard).accepted

    guard.release("d-1")  # the receiver failed to act on it

    assert verify(SECRET, BODY, sent, guard=guard).accepted


# --- The demo platform over real HTTP --------------------------------------------------------


def _raw_post(url: str, body: bytes, sent: dict[str, str]) -> tuple[int | None, Any]:
    result = post(url, body, sent)
    return result.status, json.loads(result.body) if result.body else None


@pytest.fixture
def sim() -> Any:
    platform = DemoPlatform(SECRET).start()
    yield platform
    platform.stop()


def test_the_demo_platform_refuses_a_request_signed_in_2001(sim: DemoPlatform) -> None:
    status, _ = _raw_post(sim.url, BODY, headers(timestamp=Y2001))

    assert status == 401
    assert sim.received == []
    assert sim.refused == [Outcome.STALE]


def test_the_demo_platform_acts_on_the_same_delivery_once(sim: DemoPlatform) -> None:
    sent = headers(timestamp=int(time.time()), delivery_id="action-replayed")

    first = _raw_post(sim.url, BODY, sent)
    second = _raw_post(sim.url, BODY, sent)  # a captured request, replayed within the window

    assert first == (200, {"status": "done"})
    assert second == (200, {"status": "done", "duplicate": "true"})
    assert sim.received == [json.loads(BODY)]


def test_the_demo_platform_refuses_forgeries_and_unsigned_requests(sim: DemoPlatform) -> None:
    forged = deliver(sim.url, {"kind": "ban_account"}, b"not-the-secret", delivery_id="f-1")
    unsigned = urllib.request.Request(sim.url, data=BODY, method="POST")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=5)  # noqa: S310
    refused.value.close()

    assert forged.status == 401
    assert refused.value.code == 401
    assert sim.received == []


def test_a_named_demo_platform_refuses_another_platforms_action() -> None:
    sim = DemoPlatform(SECRET, platform="ours").start()
    try:
        theirs = deliver(sim.url, {"platform": "theirs"}, SECRET, delivery_id="p-1")
        ours = deliver(sim.url, {"platform": "ours"}, SECRET, delivery_id="p-2")
    finally:
        sim.stop()

    assert theirs.status == 422
    assert ours.status == 200
    assert sim.received == [{"platform": "ours"}]


# --- Safeguard's deliveries: one id per action, however many attempts ------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_retry_after_a_lost_reply_is_acted_on_once_and_confirmed(
    service_api: ApiClient, specialist_api: ApiClient, settings: Any
) -> None:
    settings.SAFEGUARD_PLATFORM_WEBHOOK_SECRET = SECRET
    case = claimed_case(service_api, specialist_api)
    with receiver(SECRET, lose_first=1, reply=b'{"status": "done"}') as hook:
        settings.SAFEGUARD_PLATFORM_WEBHOOK_URL = hook.url
        specialist_api.post(
            f"/api/v1/cases/{case['id']}/decision",
            {"labels": ["grooming"], "reason": "grooming", "actions": ["ban_account"]},
        )
        run_tasks(within=timedelta(minutes=1))  # the retry waits out its backoff

    action = Action.objects.get()
    assert hook.outcomes() == [Outcome.ACCEPTED, Outcome.DUPLICATE]
    assert {r.delivery_id for r in hook.received} == {f"action-{action.pk}"}
    assert len(hook.bodies()) == 1  # the platform banned once
    assert hook.bodies()[0]["platform"] == settings.SAFEGUARD_PLATFORM
    assert action.status == "confirmed"
    assert action.attempts == 2
    lost = assert_audited(E.ACTION_DELIVERY_FAILED, data={"action": str(action.pk), "attempt": 1})
    assert lost.data["http"] is None
    assert not lost.data["gave_up"]
    assert_audited(E.ACTION_SENT, data={"action": str(action.pk), "attempt": 2, "http": 200})
    assert_audited(E.ACTION_CONFIRMED, target=("case", case["id"]), actor=None)
