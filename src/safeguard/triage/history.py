"""What triage reads from the database about an escalation: the case it joined, the sender as
intake recorded it, and the suspects' history across every escalation naming them.

`context_for` is the one way the live triage, the shadow policy and the backtest build a
context, so all three see the same facts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q

from safeguard.cases.decisions import DecisionKind
from safeguard.cases.models import Case, Decision
from safeguard.cases.workflow import OPEN_STATES
from safeguard.intake.enums import Category, SubjectRole
from safeguard.intake.hooks import HashMatchSummary
from safeguard.intake.models import Escalation, EscalationSubject, Subject
from safeguard.triage.context import (
    ADULT_AGE,
    SourceFacts,
    SuspectFacts,
    TriageContext,
    build_context,
)
from safeguard.triage.models import TriageKind, TriageRecord

__all__ = ["context_for", "context_unsaved", "prior_decisions", "suspect_facts"]

# A victim of unstated age in a report of these categories is counted as a child: the reports
# are about children by definition.
_CHILD_CATEGORIES = frozenset({Category.GROOMING, Category.SEXTORTION, Category.CSAM})


def prior_decisions(case: Case) -> list[str]:
    """Labels of decisions on other cases about this case's suspects."""
    labels = (
        Decision.objects.filter(kind=DecisionKind.DECISION, case__suspects__in=case.suspects.all())
        .exclude(case=case)
        .values_list("labels", flat=True)
    )
    return sorted({label for group in labels for label in group})


def _signals_by_escalation(escalation_ids: Sequence[object]) -> dict[object, set[str]]:
    out: dict[object, set[str]] = {}
    records = TriageRecord.objects.filter(
        escalation_id__in=escalation_ids, kind=TriageKind.AUTOMATIC
    ).values_list("escalation_id", "signals_triggered")
    for escalation_id, signals in records:
        out.setdefault(escalation_id, set()).update(signals)
    return out


def _history(
    suspects: Sequence[object],
    *,
    current: object | None,
    current_signals: Sequence[str],
    current_minors: Sequence[str] = (),
    labels: Sequence[str],
) -> SuspectFacts:
    """Facts over every stored escalation naming one of `suspects` (subject ids), plus the one
    being triaged: `current` if stored, its signals, and (if not stored) its minors' ids."""
    if not suspects and not current_minors:
        return SuspectFacts(prior_labels=tuple(labels))
    escalation_ids = list(
        EscalationSubject.objects.filter(subject_id__in=suspects, role=SubjectRole.SUSPECT)
        .values_list("escalation_id", flat=True)
        .distinct()
    )
    signals = _signals_by_escalation(escalation_ids)
    if current is not None:
        signals[current] = set(current_signals)
    victims = EscalationSubject.objects.filter(
        escalation_id__in=escalation_ids, role=SubjectRole.VICTIM
    ).filter(
        Q(age__lt=ADULT_AGE)
        | Q(age__isnull=True, escalation__category__in=[c.value for c in _CHILD_CATEGORIES])
    )
    minors: set[object] = set()
    probed: set[object] = set()
    for platform_id, escalation_id in victims.values_list("subject__platform_id", "escalation_id"):
        minors.add(platform_id)
        if "age_probing" in signals.get(escalation_id, set()):
            probed.add(platform_id)
    minors.update(current_minors)
    if "age_probing" in current_signals:
        probed.update(current_minors)
    migrations = sum(1 for found in signals.values() if "platform_migration" in found)
    if current is None and "platform_migration" in current_signals:
        migrations += 1
    return SuspectFacts(
        distinct_minors=len(minors),
        prior_labels=tuple(labels),
        escalations=len(escalation_ids) + (1 if current is None else 0),
        age_probed_minors=len(probed),
        migration_escalations=migrations,
    )


def suspect_facts(
    escalation: Escalation, *, current_signals: Sequence[str], labels: Sequence[str]
) -> SuspectFacts:
    """The suspects' history: every escalation naming any of this one's suspects, this one
    included (its signals are `current_signals`, as it has no triage record yet)."""
    suspects = list(
        EscalationSubject.objects.filter(
            escalation=escalation, role=SubjectRole.SUSPECT
        ).values_list("subject_id", flat=True)
    )
    return _history(suspects, current=escalation.pk, current_signals=current_signals, labels=labels)


def _minors_in(payload: Mapping[str, Any]) -> list[str]:
    category = payload.get("category")
    out = []
    for subject in payload.get("subjects") or []:
        if subject.get("role") != SubjectRole.VICTIM.value:
            continue
        age = subject.get("age")
        if (age is not None and age < ADULT_AGE) or (
            age is None and category in {c.value for c in _CHILD_CATEGORIES}
        ):
            out.append(str(subject.get("platform_id")))
    return out


def context_unsaved(
    payload: Mapping[str, Any],
    *,
    now: datetime,
    source: SourceFacts,
    ignored_models: Sequence[str] = (),
) -> TriageContext:
    """The context for an escalation that is not stored (`safeguard triage explain
    --database`, the API's explain): the suspects' open case and their stored history."""
    suspect_ids = [
        str(s.get("platform_id"))
        for s in payload.get("subjects") or []
        if s.get("role") == SubjectRole.SUSPECT.value
    ]
    subjects = list(
        Subject.objects.filter(platform_id__in=suspect_ids).values_list("pk", flat=True)
    )
    case = (
        Case.objects.filter(state__in=list(OPEN_STATES), suspects__pk__in=subjects)
        .order_by("opened_at")
        .first()
        if subjects
        else None
    )
    labels = prior_decisions(case) if case is not None else []
    context = build_context(
        payload,
        case_escalations=(case.links.count() + 1) if case is not None else 1,
        prior_decisions=labels,
        now=now,
        source=source,
        platform_zone=getattr(settings, "SAFEGUARD_PLATFORM_TIME_ZONE", "UTC"),
        ignored_models=ignored_models,
    )
    triggered = [name for name, signal in context.signals.items() if signal.triggered]
    facts = _history(
        subjects,
        current=None,
        current_signals=triggered,
        current_minors=_minors_in(payload),
        labels=labels,
    )
    return dataclasses.replace(context, suspect=facts)


def context_for(
    case: Case,
    escalation: Escalation,
    *,
    now: datetime,
    hash_match: HashMatchSummary | None = None,
    ignored_models: Sequence[str] = (),
) -> TriageContext:
    """The triage context for an escalation that joined `case`, with the case's history."""
    # Only what came before this escalation: live triage sees nothing later anyway, and a
    # backtest replaying an old escalation must not see the case's future.
    before = Escalation.objects.filter(
        case_link__case=case, received_at__lte=escalation.received_at
    ).exclude(pk=escalation.pk)
    earlier = TriageRecord.objects.filter(
        case=case, kind=TriageKind.AUTOMATIC, escalation__in=before
    )
    labels = prior_decisions(case)
    context = build_context(
        escalation.payload,
        case_escalations=before.count() + 1,
        case_categories=list(before.values_list("category", flat=True)),
        case_signals=[s for record in earlier for s in record.signals_triggered],
        hash_match=hash_match,
        prior_decisions=labels,
        now=now,
        source=SourceFacts(kind=escalation.source_kind, verified=escalation.source_verified),
        platform_zone=getattr(settings, "SAFEGUARD_PLATFORM_TIME_ZONE", "UTC"),
        ignored_models=ignored_models,
    )
    triggered = [name for name, signal in context.signals.items() if signal.triggered]
    return dataclasses.replace(
        context, suspect=suspect_facts(escalation, current_signals=triggered, labels=labels)
    )
