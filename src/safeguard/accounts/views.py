"""Second-factor pages: enrol an authenticator, type a code, and replace recovery codes."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from safeguard.accounts.console import console_required, console_signed_in
from safeguard.accounts.models import User
from safeguard.accounts.selectors import (
    recovery_codes_remaining,
    session_is_verified,
    totp_device_confirmed_for,
    totp_device_pending_for,
)
from safeguard.accounts.services import (
    AccountError,
    SecondFactorFailed,
    recovery_codes_issue,
    second_factor_verify,
    totp_device_confirm,
    totp_device_create,
)
from safeguard.accounts.totp import qr_data_uri, secret_b32
from safeguard.audit.events import AuditSource


def _person(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - the gate on every view here let only staff in
    return user


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return str(settings.LOGIN_REDIRECT_URL)


def _step(name: str, request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse(name)}?{urlencode({'next': _next_url(request)})}")


def _verified(request: HttpRequest, device: TOTPDevice | StaticDevice) -> None:
    # A new session key at the step up, as at sign-in, so a key seen before it is worth nothing.
    request.session.cycle_key()
    otp_login(request, device)


@never_cache
@require_http_methods(["GET", "POST"])
@console_signed_in
def setup(request: HttpRequest) -> HttpResponse:
    user = _person(request)
    # A second authenticator may be added only by a verified session; otherwise a stolen
    # password would be enough to enrol the thief's phone.
    if totp_device_confirmed_for(user=user) is not None:
        return _step("two-factor-verify", request)
    device = totp_device_pending_for(user=user)
    error = ""
    if request.method == "POST":
        if device is None:
            return redirect("two-factor-setup")
        try:
            enrolment = totp_device_confirm(
                device=device,
                code=request.POST.get("code", ""),
                actor=user,
                source=AuditSource.CONSOLE,
            )
        except SecondFactorFailed as exc:
            error = str(exc)
        else:
            _verified(request, enrolment.device)
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": enrolment.recovery_codes, "next": _next_url(request), "first": True},
            )
    if device is None:
        device = totp_device_create(
            user=user, actor=user, source=AuditSource.CONSOLE, confirmed=False
        )
    return render(
        request,
        "accounts/enrol.html",
        {
            "qr": qr_data_uri(device.config_url),
            "secret": secret_b32(device.bin_key),
            "error": error,
            "next": _next_url(request),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@console_signed_in
def verify(request: HttpRequest) -> HttpResponse:
    user = _person(request)
    if session_is_verified(user):
        return redirect(_next_url(request))
    if totp_device_confirmed_for(user=user) is None:
        return _step("two-factor-setup", request)
    error = ""
    if request.method == "POST":
        try:
            device = second_factor_verify(
                user=user,
                code=request.POST.get("code", ""),
                actor=user,
                source=AuditSource.CONSOLE,
            )
        except SecondFactorFailed as exc:
            error = str(exc)
        else:
            _verified(request, device)
            return redirect(_next_url(request))
    return render(request, "accounts/verify.html", {"error": error, "next": _next_url(request)})


@never_cache
@require_http_methods(["GET", "POST"])
@console_required
def recovery(request: HttpRequest) -> HttpResponse:
    """How many recovery codes are left; POST replaces them all and shows the new set once."""
    user = _person(request)
    error = ""
    if request.method == "POST":
        try:
            codes = recovery_codes_issue(user=user, actor=user, source=AuditSource.CONSOLE)
        except AccountError as exc:
            error = str(exc)
        else:
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "next": str(settings.LOGIN_REDIRECT_URL), "first": False},
            )
    return render(
        request,
        "accounts/recovery.html",
        {
            "remaining": recovery_codes_remaining(user=user),
            "has_authenticator": totp_device_confirmed_for(user=user) is not None,
            "error": error,
        },
    )
