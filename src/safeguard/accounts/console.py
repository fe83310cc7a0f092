"""The gate in front of every console page: signed in (and, soon, second factor verified)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


def console_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a console view: anonymous people are sent to sign in."""
    wrapped: Callable[..., HttpResponse] = login_required(view)

    def gate(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return wrapped(request, *args, **kwargs)

    gate.__name__ = view.__name__
    gate.__doc__ = view.__doc__
    return gate
