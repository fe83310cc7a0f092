"""A stand-in for the host platform on loopback, for the demo: it checks each action's signature,
timestamp and delivery id, acts on each delivery once, and answers that it is done — as a real
platform's enforcement endpoint would."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from safeguard.core.webhooks import Outcome, ReplayGuard, verify

logger = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024


class DemoPlatform:
    def __init__(
        self,
        secret: bytes,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        platform: str | None = None,
        guard: ReplayGuard | None = None,
    ) -> None:
        self.secret = secret
        # When named, actions on another platform's content or accounts are refused.
        self.platform = platform
        self.guard = guard or ReplayGuard()
        self.received: list[dict[str, Any]] = []
        self.refused: list[Outcome | str] = []
        platform_ = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                try:
                    length = int(self.headers.get("Content-Length", "0") or 0)
                except ValueError:
                    length = -1
                if not 0 <= length <= MAX_BODY:
                    self._answer(413, {"status": "too large"})
                    return
                body = self.rfile.read(length)
                verdict = verify(platform_.secret, body, self.headers, guard=platform_.guard)
                if verdict.outcome is Outcome.DUPLICATE:
                    # Done the first time; a sender whose answer was lost hears the same again.
                    self._answer(200, {"status": "done", "duplicate": "true"})
                    return
                if not verdict.accepted:
                    logger.warning("demo platform: refused a delivery (%s)", verdict.outcome)
                    with lock:
                        platform_.refused.append(verdict.outcome)
                    self._answer(verdict.http_status, {"status": verdict.outcome.value})
                    return
                try:
                    action = json.loads(body)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    action = None
                if not isinstance(action, dict):
                    platform_.guard.release(verdict.delivery_id)
                    self._answer(400, {"status": "not a JSON object"})
                    return
                if platform_.platform is not None and action.get("platform") != platform_.platform:
                    platform_.guard.release(verdict.delivery_id)
                    with lock:
                        platform_.refused.append("other platform")
                    self._answer(422, {"status": "not this platform's"})
                    return
                with lock:
                    platform_.received.append(action)
                logger.info(
                    "demo platform: %s %s:%s done",
                    action.get("kind"),
                    action.get("target", {}).get("type"),
                    action.get("target", {}).get("id"),
                )
                self._answer(200, {"status": "done"})

            def _answer(self, code: int, payload: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://{host}:{self._server.server_address[1]}/safeguard/actions"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> DemoPlatform:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
