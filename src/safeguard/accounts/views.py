"""Second-factor pages: enrol an authenticator (with an invite), type a code, and replace
recovery codes; and a person's preferences (time zone, P0 sound)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
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
from safeguard.accounts.models import AlertSound, User
from safeguard.accounts.selectors import (
    enrolment_invite_for_session,
    recovery_codes_remaining,
    session_is_verified,
    totp_device_confirmed_for,
    totp_device_pending_for,
)
from safeguard.accounts.services import (
    AccountError,
    InviteRefused,
    PreferenceInvalid,
    SecondFactorFailed,
    enrolment_invite_accept,
    recovery_codes_issue,
    second_factor_verify,
    totp_device_confirm,
    totp_enrolment_start,
    user_preferences_save,
)
from safeguard.accounts.throttle import (
    lockout_response,
    second_factor_allowed,
    second_factor_failed,
    second_factor_locked_out,
    sign_in_completed,
)
from safeguard.accounts.timezones import BROWSER_COOKIE, known_zones, zone_for, zone_or_none
from safeguard.accounts.totp import qr_data_uri, secret_b32
from safeguard.audit.events import AuditSource

# The session remembers which invite its holder opened, so the code leaves the address bar.
_INVITE = "safeguard_enrolment_invite"


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
    """Enrol an authenticator: first the administrator's invite, then a code from the app."""
    user = _person(request)
    # A second authenticator may be added only by a verified session; otherwise a stolen
    # password would be enough to enrol the thief's phone.
    if totp_device_confirmed_for(user=user) is not None:
        return _step("two-factor-verify", request)
    typed = request.POST.get("invite") if request.method == "POST" else request.GET.get("invite")
    if typed is not None:
        return _accept_invite(request, user, typed)
    invite = enrolment_invite_for_session(user=user, invite_id=request.session.get(_INVITE))
    if invite is None:
        return _invite_page(request)
    error = ""
    if request.method == "POST":
        if not second_factor_allowed(request, user):
            return lockout_response(request, None, None)
        device = totp_device_pending_for(user=user)
        if device is None:
            return _step("two-factor-setup", request)
        try:
            enrolment = totp_device_confirm(
                device=device,
                code=request.POST.get("code", ""),
                invite=invite,
                actor=user,
                source=AuditSource.CONSOLE,
            )
        except InviteRefused as exc:
            return _invite_page(request, str(exc))
        except SecondFactorFailed as exc:
            second_factor_failed(request, user)
            if second_factor_locked_out(request):
                return lockout_response(request, None, None)
            error = str(exc)
        else:
            request.session.pop(_INVITE, None)
            sign_in_completed(request, user)
            _verified(request, enrolment.device)
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": enrolment.recovery_codes, "next": _next_url(request), "first": True},
            )
    try:
        device = totp_enrolment_start(
            user=user, invite=invite, actor=user, source=AuditSource.CONSOLE
        )
    except InviteRefused as exc:
        return _invite_page(request, str(exc))
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


def _accept_invite(request: HttpRequest, user: User, typed: str) -> HttpResponse:
    if not second_factor_allowed(request, user):
        return lockout_response(request, None, None)
    try:
        invite = enrolment_invite_accept(
            user=user, code=typed, actor=user, source=AuditSource.CONSOLE
        )
    except InviteRefused as exc:
        second_factor_failed(request, user)
        if second_factor_locked_out(request):
            return lockout_response(request, None, None)
        return _invite_page(request, str(exc))
    request.session[_INVITE] = invite.pk
    # Reload without the code, so that it stays out of the address bar and the history.
    return _step("two-factor-setup", request)


def _invite_page(request: HttpRequest, error: str = "") -> HttpResponse:
    request.session.pop(_INVITE, None)
    return render(request, "accounts/invite.html", {"error": error, "next": _next_url(request)})


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
        # django-otp's back-off holds the account's device back wherever codes come from;
        # the sign-in throttle adds the same limits per account and address as for passwords.
        if not second_factor_allowed(request, user):
            return lockout_response(request, None, None)
        try:
            device = second_factor_verify(
                user=user,
                code=request.POST.get("code", ""),
                actor=user,
                source=AuditSource.CONSOLE,
            )
        except SecondFactorFailed as exc:
            second_factor_failed(request, user)
            if second_factor_locked_out(request):
                return lockout_response(request, None, None)
            error = str(exc)
        else:
            sign_in_completed(request, user)
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


# What each P0 sound is, for the preferences form.
SOUND_TEXT = {
    AlertSound.NONE: "No sound (the banner only)",
    AlertSound.CHIME: "Chime: two soft notes",
    AlertSound.BEEP: "Beep: three short beeps",
    AlertSound.SIREN: "Siren: a rising and falling tone",
}


@never_cache
@require_http_methods(["GET", "POST"])
@console_required
def preferences(request: HttpRequest) -> HttpResponse:
    """A person's own time zone and P0 sound. A refused value is shown again, with the error
    beside its field, and nothing is saved."""
    user = _person(request)
    values = {"time_zone": user.time_zone, "p0_sound": user.p0_sound}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {
            "time_zone": request.POST.get("time_zone", ""),
            "p0_sound": request.POST.get("p0_sound", ""),
        }
        try:
            user_preferences_save(
                user=user,
                time_zone=values["time_zone"],
                p0_sound=values["p0_sound"],
                actor=user,
                source=AuditSource.CONSOLE,
            )
        except PreferenceInvalid as exc:
            errors[exc.field] = str(exc)
            status = 400
        else:
            messages.success(request, "Preferences saved.")
            return redirect("preferences")
    browser = request.COOKIES.get(BROWSER_COOKIE, "")
    _, shown_from = zone_for(request)
    return render(
        request,
        "accounts/preferences.html",
        {
            "values": values,
            "errors": errors,
            "zones": sorted(known_zones()),
            "browser_zone": browser if zone_or_none(browser) else "",
            "shown_from": shown_from,
            "sounds": [(s.value, SOUND_TEXT[s]) for s in AlertSound],
        },
        status=status,
    )
