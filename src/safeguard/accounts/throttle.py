"""The sign-in throttle, on django-axes: failures counted per account and address, and per address.

A guesser is held back where they guess from, never the account everywhere: ten failures for one
account from one address lock that pair, and a higher number for all accounts from one address
lock the address, each for a cool-off after the last failure. Nobody can lock the on-call
specialist out by guessing from elsewhere. Wrong second-factor and enrolment codes count on the
same keys. Lockouts and the failures that lead to them are audited (docs/security.md).
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import (
    get_client_username,
    get_cool_off,
    get_failure_limit,
    get_lockout_parameters,
)
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from safeguard.accounts.models import User
from safeguard.accounts.services import (
    LockoutScope,
    SignInStage,
    sign_in_failure_record,
    sign_in_lockout_record,
)
from safeguard.audit.events import AuditSource

# The credentials key that marks a failure reported by the second-factor pages.
STAGE = "safeguard_stage"
_IPV6_PREFIX = 64


def address_key(raw: str | None) -> str | None:
    """The address a failure is counted against: an IPv4 address, or the /64 an IPv6 one is in
    (one subscriber holds a whole /64, so counting single IPv6 addresses would count nothing)."""
    if not raw:
        return None
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, _IPV6_PREFIX), strict=False).network_address)
    return str(address)


def client_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the peer address only, never a client-sent header.

    Behind a reverse proxy, the WSGI server must be told to trust it (waitress's
    `trusted_proxy`), so that REMOTE_ADDR is the client's and not the proxy's.
    """
    return address_key(request.META.get("REMOTE_ADDR"))


def _limit(parameters: str | list[str], request: Any, credentials: Any) -> int:
    if "username" in parameters:
        return int(get_failure_limit(request, credentials))
    return int(settings.SAFEGUARD_SIGN_IN_ADDRESS_FAILURE_LIMIT)


class SignInThrottle(AxesDatabaseHandler):
    """django-axes' database handler, with a limit for each of AXES_LOCKOUT_PARAMETERS.

    Axes compares one number, `get_failures`, against one limit (AXES_FAILURE_LIMIT). Here it
    is the account-and-address count while every key is under its own limit, and at least the
    limit once any key has reached its own; so every check axes makes (`is_locked`, the lockout
    after a failure) applies the per-key limits.
    """

    def failures_by_scope(
        self, request: Any, credentials: dict[str, Any] | None = None
    ) -> list[tuple[LockoutScope, int, int]]:
        """(scope, failures within the cool-off, limit) for each key this request counts on."""
        found = []
        groups = get_lockout_parameters(request, credentials)
        for parameters, attempts in zip(
            groups, self.get_user_attempts(request, credentials), strict=True
        ):
            count = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            scope = (
                LockoutScope.ACCOUNT_AND_ADDRESS
                if "username" in parameters
                else LockoutScope.ADDRESS
            )
            found.append((scope, count, _limit(parameters, request, credentials)))
        return found

    def locked_scope(
        self, request: Any, credentials: dict[str, Any] | None = None
    ) -> tuple[LockoutScope, int] | None:
        for scope, count, limit in self.failures_by_scope(request, credentials):
            if count >= limit:
                return scope, count
        return None

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        limit = int(get_failure_limit(request, credentials))
        counts = self.failures_by_scope(request, credentials)
        if any(count >= own for _, count, own in counts):
            return max(limit, *(count for _, count, _ in counts))
        return max((c for s, c, _ in counts if s is LockoutScope.ACCOUNT_AND_ADDRESS), default=0)

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        if request is None:
            super().user_login_failed(sender, credentials, request, **kwargs)
            return
        # Set by the backend when it refused a locked-out attempt: not counted (the cool-off
        # runs from the last counted failure) and not audited, so hammering grows nothing.
        refused_while_locked = bool(getattr(request, "axes_locked_out", False))
        with transaction.atomic():
            super().user_login_failed(sender, credentials, request, **kwargs)
            if refused_while_locked:
                return
            stage = SignInStage(credentials.get(STAGE, SignInStage.PASSWORD))
            username = get_client_username(request, credentials)
            user = User.objects.filter(username=username).first() if username else None
            address = request.axes_ip_address
            if request.axes_locked_out:
                scope, failures = self.locked_scope(request, credentials) or (
                    LockoutScope.ACCOUNT_AND_ADDRESS,
                    request.axes_failures_since_start or 0,
                )
                sign_in_lockout_record(
                    user=user,
                    address=address,
                    scope=scope,
                    stage=stage,
                    failures=failures,
                    cool_off=get_cool_off(request) or timedelta(0),
                    source=AuditSource.CONSOLE,
                )
            elif stage is SignInStage.PASSWORD:
                # A wrong code has its own audit event (user.second_factor_failed).
                sign_in_failure_record(
                    user=user,
                    address=address,
                    failures=request.axes_failures_since_start or 0,
                    source=AuditSource.CONSOLE,
                )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: one page for every lockout, whether or not the account exists."""
    cool_off = get_cool_off(request) or timedelta(0)
    response = render(
        request,
        "accounts/locked_out.html",
        {"minutes": max(1, int(cool_off.total_seconds() // 60))},
        status=429,
    )
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


# --- For the second-factor pages, which axes does not see: same keys, same limits ---


def _credentials(user: User) -> dict[str, Any]:
    return {"username": user.get_username(), STAGE: SignInStage.SECOND_FACTOR.value}


def second_factor_allowed(request: HttpRequest, user: User) -> bool:
    """Whether this person may try a code from this address now."""
    return bool(AxesProxyHandler.is_allowed(request, _credentials(user)))


def second_factor_failed(request: HttpRequest, user: User) -> None:
    """Count a wrong code against the account and the address, as a wrong password counts."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)


def second_factor_locked_out(request: HttpRequest) -> bool:
    """Whether the failure just counted crossed a limit (the page then shows the lockout)."""
    return bool(getattr(request, "axes_locked_out", False))


def sign_in_completed(request: HttpRequest, user: User) -> None:
    """Both factors passed: forget this account's failures from this address.

    Only here, not at the password: otherwise signing in again with a stolen password would
    clear the count of wrong codes. The address's failures for other accounts stay counted.
    """
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.reset_attempts(
        ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
        username=user.get_username(),
    )
