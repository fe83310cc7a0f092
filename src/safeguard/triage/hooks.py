"""What triage announces; apps above it (rota: paging) subscribe in their `ready()`."""

from safeguard.core.hooks import Hook

case_became_p0 = Hook(
    "case_became_p0",
    doc="Triage raised a case to P0: `case`, `reason` (the explanation), in the transaction "
    "that raised it. Rota pages the person on call.",
)

deadline_passed = Hook(
    "deadline_passed",
    doc="A case reached its warning time or breached its first-action deadline with nobody "
    "acting: `case`, `kind` ('warning' or 'breach'), `message`. Rota notifies the holder or "
    "the queue's lead and the on-call lead.",
)
