"""Routes for the second factor and a person's preferences, under /accounts/ beside Django's
sign-in and sign-out."""

from __future__ import annotations

from django.urls import path

from safeguard.accounts import views

urlpatterns = [
    path("2fa/setup/", views.setup, name="two-factor-setup"),
    path("2fa/verify/", views.verify, name="two-factor-verify"),
    path("2fa/recovery/", views.recovery, name="two-factor-recovery"),
    path("preferences/", views.preferences, name="preferences"),
]
