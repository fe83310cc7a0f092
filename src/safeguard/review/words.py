"""The console's words for the closed sets it shows: labels, actions, states, channels, kinds.

The stored values (`self_harm`, `ban_account`, `in_review`) are a contract with the API and the
audit log; people read these instead. Every member of each enum has a word (a test checks), so a
new value cannot reach the page raw. Pure: no Django.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from safeguard.cases.decisions import ActionKind, DecisionKind, DecisionLabel, Referral
from safeguard.cases.workflow import CaseState
from safeguard.evidence.enums import ContentKind
from safeguard.intake.enums import Category, Channel, SubjectRole

LABELS: dict[DecisionLabel, str] = {
    DecisionLabel.CSAM: "CSAM",
    DecisionLabel.GROOMING: "Grooming",
    DecisionLabel.SEXTORTION: "Sextortion",
    DecisionLabel.ENTICEMENT: "Enticement",
    DecisionLabel.SELF_GENERATED: "Self-generated imagery",
    DecisionLabel.SELF_HARM: "Self-harm",
    DecisionLabel.IMMINENT_DANGER: "Imminent danger",
    DecisionLabel.TRAFFICKING: "Trafficking",
    DecisionLabel.LAW_ENFORCEMENT_REQUEST: "Law-enforcement request",
    DecisionLabel.OTHER_VIOLATION: "Other violation",
    DecisionLabel.NOT_VIOLATING: "Not violating",
}
ACTIONS: dict[ActionKind, str] = {
    ActionKind.REMOVE_CONTENT: "Remove content",
    ActionKind.RESTRICT_ACCOUNT: "Restrict account",
    ActionKind.BAN_ACCOUNT: "Ban account",
    ActionKind.PRESERVE: "Preserve",
    ActionKind.RESTORE_CONTENT: "Restore content",
    ActionKind.UNBAN_ACCOUNT: "Unban account",
    ActionKind.UNRESTRICT_ACCOUNT: "Lift account restriction",
}
REFERRALS: dict[Referral, str] = {
    Referral.REPORTING: "Reporting",
    Referral.LAW_ENFORCEMENT: "Law enforcement",
}
DECISION_KINDS: dict[DecisionKind, str] = {
    DecisionKind.DECISION: "Decision",
    DecisionKind.ESCALATION: "Escalated to lead",
}
STATES: dict[CaseState, str] = {
    CaseState.NEW: "New",
    CaseState.TRIAGED: "Waiting in queue",
    CaseState.IN_REVIEW: "In review",
    CaseState.DECIDED: "Decided",
    CaseState.ACTIONED: "Actioned",
    CaseState.CLOSED: "Closed",
}
CHANNELS: dict[Channel, str] = {
    Channel.USER_REPORT: "User report",
    Channel.LAW_ENFORCEMENT: "Law enforcement",
    Channel.INTERNAL: "Internal",
    Channel.AUTOMATED: "Automated detection",
    Channel.HOTLINE: "Hotline",
}
CATEGORIES: dict[Category, str] = {
    Category.CSAM: "CSAM",
    Category.GROOMING: "Grooming",
    Category.SEXTORTION: "Sextortion",
    Category.SELF_HARM: "Self-harm",
    Category.IMMINENT_DANGER: "Imminent danger",
    Category.TRAFFICKING: "Trafficking",
    Category.OTHER: "Other",
}
CONTENT_KINDS: dict[ContentKind, str] = {
    ContentKind.IMAGE: "image",
    ContentKind.VIDEO: "video",
    ContentKind.MESSAGE_THREAD: "message thread",
    ContentKind.LIVESTREAM: "livestream",
    ContentKind.PROFILE: "profile",
}
ROLES: dict[SubjectRole, str] = {
    SubjectRole.SUSPECT: "suspect",
    SubjectRole.VICTIM: "victim",
    SubjectRole.REPORTER: "reporter",
}

E = TypeVar("E", bound=StrEnum)


def _by_value(vocabulary: dict[E, str]) -> dict[str, str]:
    return {member.value: text for member, text in vocabulary.items()}


# The vocabularies by the name a template asks for: {{ value|word:"label" }}.
VOCABULARIES: dict[str, dict[str, str]] = {
    "label": _by_value(LABELS),
    "action": _by_value(ACTIONS),
    "referral": _by_value(REFERRALS),
    "decision_kind": _by_value(DECISION_KINDS),
    "state": _by_value(STATES),
    "channel": _by_value(CHANNELS),
    "category": _by_value(CATEGORIES),
    "content_kind": _by_value(CONTENT_KINDS),
    "role": _by_value(ROLES),
}
ENUMS: dict[str, type[StrEnum]] = {
    "label": DecisionLabel,
    "action": ActionKind,
    "referral": Referral,
    "decision_kind": DecisionKind,
    "state": CaseState,
    "channel": Channel,
    "category": Category,
    "content_kind": ContentKind,
    "role": SubjectRole,
}


def word(value: object, vocabulary: str) -> str:
    """The word for `value` in `vocabulary`; a value from outside the set (an old row, a value
    added since) is shown with its underscores as spaces rather than refused."""
    text = str(value)
    return VOCABULARIES[vocabulary].get(text, text.replace("_", " "))
