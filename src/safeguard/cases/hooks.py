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

case_claimed = Hook(
    "case_claimed",
    doc="Someone took a case from a queue: `case`, `actor`, `source`, in the claim's "
    "transaction. A claim is not the first action, but it answers the case's open pages; "
    "the rota subscribes to mark them answered.",
)

case_first_action = Hook(
    "case_first_action",
    doc="Someone acted on a case (see `cases.clock.FIRST_ACTIONS`): `case`, `actor`, `act` (a "
    "`FirstAction`), `source`, in the act's transaction, every time such an act is taken (the "
    "first one set `case.first_action_at`). The rota subscribes to answer the case's open P0 "
    "pages.",
)

case_released_before_action = Hook(
    "case_released_before_action",
    doc="A case went back to a queue before anyone acted on it (a release, a step away, a "
    "reassignment to a queue): `case`, `actor` (None for Safeguard), `how`, `source`, in the "
    "release's transaction. The rota subscribes to page the on-call again at once for a P0.",
)
