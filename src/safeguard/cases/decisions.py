"""The vocabulary of decisions: policy labels, per-item industry classes, requested actions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from safeguard.intake.enums import Category, Channel


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


L = DecisionLabel

# The labels that fit each category the intake accepts (the first is the usual one); every
# category has at least one, and `not_violating` fits any case.
CATEGORY_LABELS: dict[Category, tuple[DecisionLabel, ...]] = {
    Category.CSAM: (L.CSAM, L.SELF_GENERATED),
    Category.GROOMING: (L.GROOMING, L.ENTICEMENT, L.SEXTORTION),
    Category.SEXTORTION: (L.SEXTORTION, L.GROOMING),
    Category.SELF_HARM: (L.SELF_HARM, L.IMMINENT_DANGER),
    Category.IMMINENT_DANGER: (L.IMMINENT_DANGER, L.SELF_HARM, L.TRAFFICKING),
    Category.TRAFFICKING: (L.TRAFFICKING, L.IMMINENT_DANGER),
    Category.OTHER: (L.OTHER_VIOLATION,),
}

# Labels that fit because of how a case arrived, whatever its category.
CHANNEL_LABELS: dict[Channel, tuple[DecisionLabel, ...]] = {
    Channel.LAW_ENFORCEMENT: (L.LAW_ENFORCEMENT_REQUEST,),
}


def labels_fitting(
    *, categories: Iterable[str], channels: Iterable[str] = ()
) -> list[DecisionLabel]:
    """The labels that fit a case with these escalation categories and channels, each once, in
    the order of `CATEGORY_LABELS` then `CHANNEL_LABELS`, with `not_violating` last."""
    by_category = {c.value: labels for c, labels in CATEGORY_LABELS.items()}
    by_channel = {c.value: labels for c, labels in CHANNEL_LABELS.items()}
    found: list[DecisionLabel] = []
    for category in categories:
        found += by_category.get(category, ())
    for channel in channels:
        found += by_channel.get(channel, ())
    return list(dict.fromkeys([*found, L.NOT_VIOLATING]))
