"""The embedded SQLite backend: its in-process write queue (released on commit, rollback and
close), and its files at rest (owner only, like var/)."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction

from safeguard.accounts.permissions import Role
from safeguard.accounts.services import user_create
from safeguard.audit.events import AuditSource
from safeguard.config.env import load
from safeguard.config.sqlite import base
from tests.cli import clean_env, safeguard

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


# --- Files at rest: the database, its journal files and var/ are the owner's only ---


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def _open_on(path: Path) -> base.DatabaseWrapper:
    wrapper = base.DatabaseWrapper(
        {
            **settings.DATABASES["default"],
            "NAME": str(path),
            "OPTIONS": {
                **settings.DATABASES["default"].get("OPTIONS", {}),
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        },
        alias="permissions-test",
    )
    wrapper.ensure_connection()
    return wrapper


def test_a_new_database_and_its_wal_and_shm_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite3"
    old = os.umask(0o022)  # the usual umask, under which SQLite would make them 0644
    try:
        wrapper = _open_on(path)
        try:
            with wrapper.cursor() as cursor:
                cursor.execute("CREATE TABLE t (x INTEGER)")
                cursor.execute("INSERT INTO t VALUES (1)")
            wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
            # Asserted while the connection is open: SQLite removes both when the last one closes.
            assert wal.exists()
            assert shm.exists()
            assert (_mode(path), _mode(wal), _mode(shm)) == (0o600, 0o600, 0o600)
        finally:
            wrapper.close()
    finally:
        os.umask(old)


def test_an_existing_world_readable_database_is_made_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (x INTEGER)")
    db.close()
    path.chmod(0o644)
    # As a process that died with the database open leaves it (an empty WAL is a valid one).
    leftover = Path(f"{path}-wal")
    leftover.write_bytes(b"")
    leftover.chmod(0o644)

    wrapper = _open_on(path)
    try:
        assert _mode(path) == 0o600
        assert _mode(leftover) == 0o600
    finally:
        wrapper.close()


def test_var_is_created_owner_only_with_the_database_in_it(tmp_path: Path) -> None:
    var = tmp_path / "var"
    done = safeguard(clean_env(var), "migrate", "--verbosity", "0")
    assert done.returncode == 0, done.stderr

    assert _mode(var) == 0o700
    assert _mode(var / "safeguard.sqlite3") == 0o600
    assert all(_mode(p) == 0o600 for p in var.glob("*.key"))


def test_an_existing_open_var_is_made_private(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)

    load({"SAFEGUARD_ENV": "development", "SAFEGUARD_VAR_DIR": str(var)})

    assert _mode(var) == 0o700


def test_an_existing_database_is_never_opened_and_closed_beside_open_connections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Closing any descriptor of the file would drop the POSIX locks of this process's other
    # connections to it, and let another process write under them (database corruption).
    path = tmp_path / "busy.sqlite3"
    first = _open_on(path)
    opened: list[str] = []
    real_open = os.open

    def spying_open(name: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(str(name))
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", spying_open)
    try:
        base.make_private(path)
        second = _open_on(path)
        second.close()
    finally:
        first.close()

    assert str(path) not in opened
