"""What cases announces; apps above it subscribe in their `ready()`."""

from safeguard.core.hooks import Hook

escalation_grouped = Hook(
    "escalation_grouped",
    doc="An escalation joined a case: `case`, `escalation`, `source`, and `hash_match` (passed "
    "on from intake). Triage subscribes to rank the case, in intake's transaction.",
)

decision_recorded = Hook(
    "decision_recorded",
    doc="A decision asks for actions in the world: `case`, `decision`, `targets` (a list of "
    "ActionTarget), `actor`, `source`, in the decision's transaction. Actions subscribes to "
    "record and deliver them.",
)
