"""Reads for banks, with the access check."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.matching.models import Bank
from safeguard.matching.services import BankNotFound


def banks_for(*, user: User | None) -> QuerySet[Bank]:
    """Banks with entry counts; `user=None` is the command line (an operator on the host)."""
    if user is not None and not user.has_permission(Permission.MATCHING_BANK_MANAGE):
        return Bank.objects.none()
    return Bank.objects.annotate(
        entry_count=Count("entries"),
        enabled_count=Count("entries", filter=Q(entries__enabled=True)),
    ).order_by("name")


def bank_get_for(*, user: User | None, name: str) -> Bank:
    bank = banks_for(user=user).filter(name=name).first()
    if bank is None:
        raise BankNotFound(name)
    return bank
