"""A real HTTP receiver on loopback that records signed webhooks and can fail on purpose."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from safeguard.actions.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


@dataclass
class Received:
    body: dict[str, Any]
    signature_ok: bool


@dataclass
class Receiver:
    secret: bytes
    fail_first: int = 0
    reply: bytes = b""
    received: list[Received] = field(default_factory=list)
    refused: int = 0
    url: str = ""

    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.received]


@contextmanager
def receiver(secret: bytes, *, fail_first: int = 0, reply: bytes = b"") -> Iterator[Receiver]:
    """Record signed POSTs; refuse the first `fail_first` with 503; answer the rest `reply`."""
    state = Receiver(secret=secret, fail_first=fail_first, reply=reply)
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
                ok = verify(
                    state.secret,
                    int(self.headers.get(TIMESTAMP_HEADER, "0")),
                    raw,
                    self.headers.get(SIGNATURE_HEADER, ""),
                )
                state.received.append(Received(json.loads(raw), ok))
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.reply)))
            self.end_headers()
            self.wfile.write(state.reply)

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
