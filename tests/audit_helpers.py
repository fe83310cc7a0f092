"""Asserting audit events, and counting which event types the suite asserted.

Every successful `assert_audited…` call records its event type in `ASSERTED`; at the end of a
run of the whole suite, tests/conftest.py fails the run if an `AuditEventType` member was never
asserted. The count is taken as the tests run, so a test that is skipped, or an assertion that
is never reached, counts for nothing (grepping the test files would count both).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.db.models import Model, QuerySet

from safeguard.accounts.models import ApiToken, User
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.cases.models import Case, Queue, ReadGrant
from safeguard.evidence.models import ContentItem
from safeguard.intake.models import Escalation
from safeguard.matching.models import Bank
from safeguard.triage.models import TriagePolicy

# Event types some test asserted in this process.
ASSERTED: set[AuditEventType] = set()

# How each kind of object is named as an audit target, written out here rather than read from
# the services: a service that starts recording a case under another name must fail a test.
# Banks and queues are named by their name, policies by their version, the rest by their key.
TARGETS: dict[type[Model], tuple[str, Callable[[Any], object]]] = {
    Case: ("case", lambda case: case.pk),
    User: ("user", lambda user: user.pk),
    Escalation: ("escalation", lambda escalation: escalation.pk),
    ContentItem: ("content", lambda item: item.pk),
    Bank: ("bank", lambda bank: bank.name),
    Queue: ("queue", lambda queue: queue.name),
    ReadGrant: ("read_grant", lambda grant: grant.pk),
    ApiToken: ("api_token", lambda token: token.pk),
    TriagePolicy: ("triage_policy", lambda policy: policy.version),
}

Target = Model | tuple[str, object]


class _Any:
    def __repr__(self) -> str:
        return "any"


ANY: Any = _Any()


def _target(target: Target) -> tuple[str, str]:
    if isinstance(target, tuple):
        kind, pk = target
        return kind, str(pk)
    for model, (kind, key) in TARGETS.items():
        if isinstance(target, model):
            return kind, str(key(target))
    raise TypeError(f"no audit target type is written down for {type(target).__name__}")


def _describe(event: AuditEvent) -> str:
    return (
        f"#{event.pk} {event.event_type} {event.target_type}:{event.target_id} "
        f"actor={event.actor_label!r} source={event.source} data={event.data!r}"
    )


def _contains(data: Any, expected: Any) -> bool:
    """`expected`'s keys all in `data` with equal values; nested mappings compare the same way."""
    if isinstance(expected, Mapping):
        return isinstance(data, Mapping) and all(
            key in data and _contains(data[key], value) for key, value in expected.items()
        )
    return bool(data == expected)


def _record(event_type: AuditEventType) -> None:
    ASSERTED.add(event_type)


def audited(
    event_type: AuditEventType,
    *,
    target: Target | None = None,
    actor: User | None = ANY,
    source: AuditSource | None = None,
    data: Mapping[str, Any] | None = None,
    after: int = 0,
) -> list[AuditEvent]:
    """The events of `event_type` matching every filter given, in the order recorded. Asserts
    nothing and records nothing."""
    query: QuerySet[AuditEvent] = AuditEvent.objects.filter(
        event_type=event_type.value, id__gt=after
    )
    if target is not None:
        kind, pk = _target(target)
        query = query.filter(target_type=kind, target_id=pk)
    if actor is not ANY:
        query = query.filter(actor__isnull=True) if actor is None else query.filter(actor=actor)
    if source is not None:
        query = query.filter(source=source.value)
    found = list(query.select_related("actor").order_by("id"))
    if data is not None:
        found = [e for e in found if _contains(e.data, data)]
    return found


def _failure(
    event_type: AuditEventType,
    wanted: str,
    found: Sequence[AuditEvent],
    filters: Mapping[str, object],
) -> str:
    shown = {k: v for k, v in filters.items() if v is not None and v is not ANY}
    lines = [
        f"expected {wanted} {event_type.value} event(s) matching {shown!r}, found {len(found)}"
    ]
    lines += [f"  matching: {_describe(e)}" for e in found]
    others = AuditEvent.objects.filter(event_type=event_type.value).exclude(
        pk__in=[e.pk for e in found]
    )
    lines += [f"  not matching: {_describe(e)}" for e in others.order_by("id")[:10]]
    if not others.exists() and not found:
        recent = AuditEvent.objects.order_by("-id")[:10]
        lines.append(f"  no {event_type.value} events at all; the latest events are:")
        lines += [f"    {_describe(e)}" for e in reversed(list(recent))]
    return "\n".join(lines)


def assert_audited(
    event_type: AuditEventType,
    *,
    target: Target | None = None,
    actor: User | None = ANY,
    source: AuditSource | None = None,
    data: Mapping[str, Any] | None = None,
    after: int = 0,
) -> AuditEvent:
    """Exactly one event of `event_type` matches: return it.

    `target` is the object audited (or a `(target_type, id)` pair); `actor` None means
    Safeguard itself acted; `data` must be contained in the event's data (nested mappings are
    compared key by key); `after` is an event id the event must come after.
    """
    found = audited(event_type, target=target, actor=actor, source=source, data=data, after=after)
    filters = {"target": target, "actor": actor, "source": source, "data": data, "after": after}
    assert len(found) == 1, _failure(event_type, "exactly one", found, filters)
    _record(event_type)
    return found[0]


def assert_audited_many(
    event_type: AuditEventType,
    *,
    count: int | None = None,
    target: Target | None = None,
    actor: User | None = ANY,
    source: AuditSource | None = None,
    data: Mapping[str, Any] | None = None,
    after: int = 0,
) -> list[AuditEvent]:
    """`count` events of `event_type` match (at least one when `count` is None): return them in
    the order recorded."""
    found = audited(event_type, target=target, actor=actor, source=source, data=data, after=after)
    filters = {"target": target, "actor": actor, "source": source, "data": data, "after": after}
    if count is None:
        assert found, _failure(event_type, "at least one", found, filters)
    else:
        assert count > 0, "use assert_not_audited to assert that nothing was recorded"
        assert len(found) == count, _failure(event_type, str(count), found, filters)
    _record(event_type)
    return found


def assert_not_audited(
    event_type: AuditEventType,
    *,
    target: Target | None = None,
    actor: User | None = ANY,
    data: Mapping[str, Any] | None = None,
    after: int = 0,
) -> None:
    """No event of `event_type` matches. Proving an absence asserts nothing about what the
    event holds, so it does not count as asserting the type."""
    found = audited(event_type, target=target, actor=actor, data=data, after=after)
    filters = {"target": target, "actor": actor, "data": data, "after": after}
    assert not found, _failure(event_type, "no", found, filters)


def assert_audit_trail(
    expected: Sequence[AuditEventType], *, target: Target, after: int = 0
) -> list[AuditEvent]:
    """The events about `target` (after `after`) are exactly `expected`, in that order."""
    kind, pk = _target(target)
    events = list(
        AuditEvent.objects.filter(target_type=kind, target_id=pk, id__gt=after).order_by("id")
    )
    got = [e.event_type for e in events]
    assert got == [t.value for t in expected], "audit trail differs:\n" + "\n".join(
        f"  {_describe(e)}" for e in events
    )
    for event_type in expected:
        _record(event_type)
    return events


def assert_last_audited(event_type: AuditEventType, *, target: Target) -> AuditEvent:
    """The newest event about `target` is of `event_type`: return it."""
    kind, pk = _target(target)
    newest = AuditEvent.objects.filter(target_type=kind, target_id=pk).order_by("-id").first()
    assert newest is not None, f"no audit events about {kind}:{pk}"
    assert newest.event_type == event_type.value, (
        f"expected the newest event about {kind}:{pk} to be {event_type.value}, "
        f"it is {_describe(newest)}"
    )
    _record(event_type)
    return newest


def last_event_id() -> int:
    """The newest event's id, to assert only what a step recorded (`after=`). Ids follow the
    order events were written in, which within one test is the order they committed in."""
    newest = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return newest or 0


def unasserted(types: Iterable[AuditEventType] = AuditEventType) -> list[AuditEventType]:
    """The event types no test asserted in this process."""
    return [t for t in types if t not in ASSERTED]


def audit_log_intact() -> bool:
    """Sequence what has been recorded, then verify the whole log (tree and checkpoints)."""
    from safeguard.audit.selectors import audit_log_verify
    from safeguard.audit.services import audit_sequence

    audit_sequence()
    result = audit_log_verify()
    assert result.ok, result.problem
    return result.ok
