"""The embedded SQLite backend's in-process write queue: released on commit, rollback and close."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection, transaction

from safeguard.accounts.permissions import Role
from safeguard.accounts.services import user_create
from safeguard.audit.events import AuditSource
from safeguard.config.sqlite import base

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "safeguard.config.sqlite",
        reason="the write queue belongs to the SQLite backend",
    ),
]


def _create_in_thread(username: str) -> list[BaseException]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            user_create(username=username, role=Role.LEAD, actor=None, source=AuditSource.CLI)
        except BaseException as exc:  # handed back to the test to assert on
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the second writer never got the write slot"
    return errors


def test_the_write_slot_is_released_after_a_rollback() -> None:
    held: list[bool] = []

    def fail_inside_a_transaction() -> None:
        with transaction.atomic():
            held.append(base._WRITE_LOCK.locked())
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fail_inside_a_transaction()

    assert held == [True]

    assert not base._WRITE_LOCK.locked()
    assert _create_in_thread("after-rollback") == []


def test_the_write_slot_is_released_after_a_commit() -> None:
    user_create(username="first", role=Role.LEAD, actor=None, source=AuditSource.CLI)

    assert not base._WRITE_LOCK.locked()
    assert _create_in_thread("second") == []
