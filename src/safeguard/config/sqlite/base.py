"""Django's SQLite backend with one write transaction at a time per process, queued in Python.

SQLite allows one writer. Threads that find the database locked wait in SQLite's busy handler,
which sleeps in growing steps (up to 100 ms) and so turns a few concurrent writers into long
tail latencies. A process-wide lock taken at `BEGIN IMMEDIATE` and released at commit or
rollback makes the web server's threads queue and wake in turn instead; other processes (the
worker) still meet the busy timeout as before.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_WRITE_LOCK = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_write_lock = False

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
