"""What evidence announces; apps above it subscribe in their `ready()`."""

from safeguard.core.hooks import Hook

media_stored = Hook(
    "media_stored",
    doc="A content item received its media bytes: `content` (ContentItem), in the transaction "
    "that stored them. Matching subscribes to scan them.",
)
