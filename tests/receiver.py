"""A real HTTP receiver on loopback that checks signed webhooks as a platform must (signature,
timestamp window, delivery id seen once), records them, and can fail on purpose."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from safeguard.core.webhooks import Outcome, ReplayGuard, verify


@dataclass
class Received:
    body: Any
    outcome: Outcome
    delivery_id: str

    @property
    def signature_ok(self) -> bool:
        """Accepted: genuine, fresh, and the first time this delivery arrived."""
        return self.outcome is Outcome.ACCEPTED


@dataclass
class Receiver:
    secret: bytes
    fail_first: int = 0
    lose_first: int = 0
    reply: bytes = b""
    guard: ReplayGuard = field(default_factory=ReplayGuard)
    # Every request past the deliberate failures, with what the guard made of it.
    received: list[Received] = field(default_factory=list)
    refused: int = 0
    lost: int = 0
    url: str = ""

    def bodies(self) -> list[Any]:
        """The deliveries acted on: accepted, each once."""
        return [r.body for r in self.received if r.outcome is Outcome.ACCEPTED]

    def outcomes(self) -> list[Outcome]:
        return [r.outcome for r in self.received]


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


@contextmanager
def receiver(
    secret: bytes, *, fail_first: int = 0, lose_first: int = 0, reply: bytes = b""
) -> Iterator[Receiver]:
    """Record signed POSTs. Refuse the first `fail_first` with 503 before looking at them; act
    on the next `lose_first` and then drop the connection without answering (a lost reply);
    answer the rest: accepted and duplicate deliveries with 200 and `reply`, refused ones with
    the verdict's status."""
    state = Receiver(secret=secret, fail_first=fail_first, lose_first=lose_first, reply=reply)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                if state.refused < state.fail_first:
                    state.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                verdict = verify(state.secret, raw, self.headers, guard=state.guard)
                state.received.append(Received(_json(raw), verdict.outcome, verdict.delivery_id))
                if verdict.accepted and state.lost < state.lose_first:
                    state.lost += 1
                    self.close_connection = True
                    return
            self.send_response(verdict.http_status)
            body = state.reply if verdict.http_status == 200 else b""
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
