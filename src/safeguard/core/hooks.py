"""Hooks: how a lower layer announces what happened without knowing who listens.

A hook is declared by the app that announces it (next to its services), and apps above it
subscribe in their `AppConfig.ready()`. Subscribers run synchronously, in registration order,
inside the announcer's transaction: what they write commits or rolls back with the change they
follow, and an exception in one refuses the whole change. A hook carries keyword arguments only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Subscriber = Callable[..., None]


class Hook:
    """One announcement, e.g. `escalation_accepted`, with the subscribers that act on it."""

    def __init__(self, name: str, *, doc: str) -> None:
        self.name = name
        self.__doc__ = doc
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Subscriber:
        """Add `subscriber` once (a second `ready()` in tests must not run it twice)."""
        if subscriber not in self._subscribers:
            self._subscribers.append(subscriber)
        return subscriber

    @property
    def subscribers(self) -> tuple[Subscriber, ...]:
        return tuple(self._subscribers)

    def announce(self, **kwargs: Any) -> None:
        for subscriber in self._subscribers:
            subscriber(**kwargs)

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._subscribers)} subscriber(s)>"
