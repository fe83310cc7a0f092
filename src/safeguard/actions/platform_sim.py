"""A stand-in for the host platform on loopback, for the demo: it checks each action's signature,
records it, and answers that it is done — as a real platform's enforcement endpoint would."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from safeguard.actions.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

logger = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024


class DemoPlatform:
    def __init__(self, secret: bytes, host: str = "127.0.0.1", port: int = 0) -> None:
        self.secret = secret
        self.received: list[dict[str, Any]] = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length", "0") or 0), MAX_BODY)
                body = self.rfile.read(length)
                try:
                    stamp = int(self.headers.get(TIMESTAMP_HEADER, "0"))
                except ValueError:
                    stamp = 0
                if not verify(platform.secret, stamp, body, self.headers.get(SIGNATURE_HEADER, "")):
                    logger.warning("demo platform: refused an action with a bad signature")
                    self._answer(401, {"status": "bad signature"})
                    return
                action = json.loads(body)
                platform.received.append(action)
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
