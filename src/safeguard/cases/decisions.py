"""The vocabulary of decisions: policy labels, per-item industry classes, requested actions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DecisionLabel(StrEnum):
    """What a case is, in the team's words; every intake category has a label that fits it
    (`CATEGORY_LABELS`), and a law-enforcement request is labelled as one."""

    CSAM = "csam"
    GROOMING = "grooming"
    SEXTORTION = "sextortion"
    ENTICEMENT = "enticement"
    SELF_GENERATED = "self_generated"
    SELF_HARM = "self_harm"
    IMMINENT_DANGER = "imminent_danger"
    TRAFFICKING = "trafficking"
    LAW_ENFORCEMENT_REQUEST = "law_enforcement_request"
    OTHER_VIOLATION = "other_violation"
    NOT_VIOLATING = "not_violating"


class IndustryClass(StrEnum):
    """The industry classification of a media item (A: prepubescent, B: pubescent; 1: sex act,
    2: lascivious exhibition), as used in reports to NCMEC."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"


class ActionKind(StrEnum):
    REMOVE_CONTENT = "remove_content"
    RESTRICT_ACCOUNT = "restrict_account"
    BAN_ACCOUNT = "ban_account"
    PRESERVE = "preserve"
    # Reversals, taken later with a reason.
    RESTORE_CONTENT = "restore_content"
    UNBAN_ACCOUNT = "unban_account"
    UNRESTRICT_ACCOUNT = "unrestrict_account"


class Referral(StrEnum):
    """Work handed to other parts of Safeguard; listed on the case until they pick it up."""

    REPORTING = "reporting"
    LAW_ENFORCEMENT = "law_enforcement"


class DecisionKind(StrEnum):
    DECISION = "decision"
    # A specialist's escalation to a lead: the note and any proposed labels, kept with the
    # lead's later decision.
    ESCALATION = "escalation"


PLATFORM_ACTIONS = frozenset(
    {
        ActionKind.REMOVE_CONTENT,
        ActionKind.RESTRICT_ACCOUNT,
        ActionKind.BAN_ACCOUNT,
        ActionKind.PRESERVE,
    }
)
CONTENT_ACTIONS = frozenset({ActionKind.REMOVE_CONTENT, ActionKind.PRESERVE})
REVERSALS = {
    ActionKind.REMOVE_CONTENT: ActionKind.RESTORE_CONTENT,
    ActionKind.BAN_ACCOUNT: ActionKind.UNBAN_ACCOUNT,
    ActionKind.RESTRICT_ACCOUNT: ActionKind.UNRESTRICT_ACCOUNT,
}


@dataclass(frozen=True)
class ActionTarget:
    """One thing a decision asks the world to do, and to whom: announced for actions."""

    kind: ActionKind
    target_type: str  # "content" or "account"
    target_id: str  # the platform's id
    platform: str  # the platform that owns the target
