"""The gate in front of every console page: signed in, a console role, and second factor passed."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from safeguard.accounts.models import User
from safeguard.accounts.permissions import console_allowed, portal_allowed
from safeguard.accounts.selectors import SecondFactorStep, second_factor_step, session_is_verified


def console_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a console view.

    Anonymous people are sent to sign in; roles without a console (the service account,
    law-enforcement partners) get 403; a role that needs a second factor is sent to enrol an
    authenticator, or to type a code, until this session has passed one (docs/two-factor.md).
    """
    return _gate(view, second_factor=True)


def console_signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The same gate without the second factor, for the pages where a person passes it (the
    law-enforcement portal's partners pass theirs there too)."""
    return _gate(view, second_factor=False, allowed=_console_or_portal)


def portal_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The gate of the law-enforcement portal's partner pages (/le/): a partner account, with
    its second factor passed; staff roles use the console instead."""
    return _gate(view, second_factor=True, allowed=portal_allowed)


def _console_or_portal(role: str) -> bool:
    return console_allowed(role) or portal_allowed(role)


def _gate(
    view: Callable[..., HttpResponse],
    *,
    second_factor: bool,
    allowed: Callable[[str], bool] = console_allowed,
) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def gate(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        # Every signed-in principal is an accounts.User (AUTH_USER_MODEL); anyone else is anonymous.
        if not isinstance(user, User):
            return redirect_to_login(request.get_full_path())
        if not allowed(user.role):
            raise PermissionDenied("this account has no access to these pages")
        if second_factor:
            step = second_factor_step(user=user, verified=session_is_verified(user))
            if step is SecondFactorStep.ENROL:
                return _to("two-factor-setup", request)
            if step is SecondFactorStep.VERIFY:
                return _to("two-factor-verify", request)
        return view(request, *args, **kwargs)

    return gate


def _to(name: str, request: HttpRequest) -> HttpResponse:
    # Carry the page the person asked for, so they land there once the second factor is done.
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
