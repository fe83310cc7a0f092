"""What intake announces; apps above it subscribe in their `ready()`.

Intake stores an escalation exactly as received and then announces it. Cases groups it into a
case and announces that in turn (`cases.hooks.escalation_grouped`), which triage ranks. All of
it runs in intake's transaction, so a 2xx means the escalation, its case and its triage are
durable together, and a P0's page is enqueued if and only if the escalation is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from safeguard.core.hooks import Hook


@dataclass(frozen=True, slots=True)
class HashMatchSummary:
    """What hash matching found for the escalation's media; filled in by the matching stage."""

    verified: bool = False
    count: int = 0
    min_distance: int = -1

    def __post_init__(self) -> None:
        # These invariants are what rules rely on ("count > 0" means a distance is known).
        if self.count < 0:
            raise ValueError("hash match count must not be negative")
        if self.count == 0 and (self.verified or self.min_distance != -1):
            raise ValueError("with no matches, verified must be false and min_distance -1")
        if self.count > 0 and self.min_distance < 0:
            raise ValueError("with matches, min_distance must be 0 or more")


escalation_accepted = Hook(
    "escalation_accepted",
    doc="A new escalation was stored: `escalation`, `suspects` (its suspect Subjects), "
    "`content_ids`, `actor`, `source`, and `hash_match` (a HashMatchSummary from Safeguard's "
    "own matcher, or None). Cases subscribes to group it.",
)
