"""factory_boy factories for the models tests build directly."""

from __future__ import annotations

import factory

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"person{n}")
    role = Role.SPECIALIST.value
    password = factory.django.Password("correct-horse-battery")
