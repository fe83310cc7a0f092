"""Django's SQLite backend with one write transaction at a time per process, queued in Python.

SQLite allows one writer. Threads that find the database locked wait in SQLite's busy handler,
which sleeps in growing steps (up to 100 ms) and so turns a few concurrent writers into long
tail latencies. A process-wide lock taken at `BEGIN IMMEDIATE` and released at commit or
rollback makes the web server's threads queue and wake in turn instead; other processes (the
worker) still meet the busy timeout as before.

The database file is created readable by its owner only (0600) before SQLite opens it, and an
existing one is made so; SQLite gives its -wal and -shm files the database file's mode.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_WRITE_LOCK = threading.Lock()


_SIDE_FILES = ("-wal", "-shm", "-journal")


def _database_file(conn_params: dict[str, Any]) -> Path | None:
    # Django always opens with uri=True; a name that is not a "file:" URI is still a path.
    name = str(conn_params.get("database", ""))
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def _owner_only(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        path.chmod(mode & 0o600)


def make_private(path: Path) -> None:
    """Create the database file 0600 if it is missing; take group and other access away from
    it and from any journal files beside it.

    An existing file is never opened here: closing any descriptor of a file drops every POSIX
    lock this process holds on it, so opening and closing the database beside another thread's
    open connection would release that connection's locks and let another process corrupt the
    database (sqlite.org, "How To Corrupt An SQLite Database File", 2.2). A missing file is
    created exclusively, so no connection can have it open yet."""
    if not path.exists():
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another thread or process created it first
        else:
            os.close(fd)
    _owner_only(path)
    for suffix in _SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            _owner_only(side)


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_write_lock = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        path = _database_file(conn_params)
        if path is not None:
            make_private(path)
        return super().get_new_connection(conn_params)  # type: ignore[no-untyped-call]

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 20))
        if not _WRITE_LOCK.acquire(timeout=timeout):
            raise OperationalError("database is locked: no write slot within the timeout")
        self._holds_write_lock = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[no-untyped-call]
        except BaseException:
            self._release_write_lock()
            raise

    def _release_write_lock(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            _WRITE_LOCK.release()

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[no-untyped-call]
        finally:
            self._release_write_lock()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[no-untyped-call]
        finally:
            self._release_write_lock()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[no-untyped-call]
        finally:
            self._release_write_lock()
