"""What evidence announces, and the one question it asks the apps above it; those apps
subscribe or register in their `ready()`."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Mapping

from safeguard.core.hooks import Hook

media_stored = Hook(
    "media_stored",
    doc="A content item received its media bytes: `content` (ContentItem), in the transaction "
    "that stored them. Matching subscribes to scan them.",
)

# A hold key: a hold's (target_type, target_id), e.g. ("case", "6f1c…"), as LegalHold stores it.
HoldKey = tuple[str, str]
HoldScopeProvider = Callable[[frozenset[uuid.UUID]], Mapping[uuid.UUID, Iterable[HoldKey]]]


class HoldScope:
    """Which subjects and cases each content item belongs to, asked of the apps that know.

    This is the one hook that evidence *queries* rather than announces to. A hold on a case or
    a subject must protect every content item of that case or subject at the moment something
    tries to delete it, including content that joined the case after the hold was placed; so
    the question is asked at each deletion, not answered once when the hold is placed (copying
    the hold onto the items then would miss every later item). Evidence cannot import cases or
    intake to ask itself (they are above it), so they register a provider here.

    A provider takes the content ids being deleted and returns, for any of them it knows, the
    hold keys they fall under: `{content_id: [("case", str(case.pk)), ("subject",
    str(subject.pk)), ...]}`. It runs inside the deleting transaction, must not write, and
    an exception in it refuses the deletion (a hold check that cannot be completed must not
    pass).
    """

    def __init__(self) -> None:
        self._providers: list[HoldScopeProvider] = []

    def register(self, provider: HoldScopeProvider) -> HoldScopeProvider:
        """Add `provider` once (a second `ready()` in tests must not add it twice)."""
        if provider not in self._providers:
            self._providers.append(provider)
        return provider

    def unregister(self, provider: HoldScopeProvider) -> None:
        if provider in self._providers:
            self._providers.remove(provider)

    @property
    def providers(self) -> tuple[HoldScopeProvider, ...]:
        return tuple(self._providers)

    def keys_for(self, content_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, set[HoldKey]]:
        """Every hold key each content item falls under: its own, then every provider's."""
        wanted = frozenset(content_ids)
        keys: dict[uuid.UUID, set[HoldKey]] = {cid: {("content", str(cid))} for cid in wanted}
        for provider in self._providers:
            for cid, found in provider(wanted).items():
                if cid in keys:
                    keys[cid].update((str(kind), str(target)) for kind, target in found)
        return keys


hold_scope = HoldScope()
