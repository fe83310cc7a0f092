"""`safeguard serve`: the web process (WSGI on waitress)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the console and the API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, **options: Any) -> None:
        from waitress import serve

        from safeguard.config.wsgi import application

        # Behind a TLS-terminating proxy, waitress must pass on the scheme and the client's
        # address the proxy reports; otherwise every request looks like plain HTTP and the
        # HTTPS redirect loops. The web port must then be reachable only through the proxy.
        proxy: dict[str, Any] = {}
        if settings.SAFEGUARD_HTTPS.behind_proxy:
            proxy = {
                "trusted_proxy": "*",
                "trusted_proxy_headers": "x-forwarded-proto x-forwarded-for",
                "clear_untrusted_proxy_headers": True,
            }
        serve(
            application,
            host=options["host"],
            port=options["port"],
            threads=options["threads"],
            **proxy,
        )
