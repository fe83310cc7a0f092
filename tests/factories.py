"""factory_boy factories for the models tests build directly."""

from __future__ import annotations

import factory
from django.conf import settings

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"person{n}")
    role = Role.SPECIALIST.value
    # Service accounts speak for the configured platform, as `users create --role service` does.
    platform = factory.LazyAttribute(
        lambda user: settings.SAFEGUARD_PLATFORM if user.role == Role.SERVICE.value else ""
    )
    password = factory.django.Password("correct-horse-battery")
