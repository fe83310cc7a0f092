"""`safeguard demo`: migrate, seed the synthetic demo, then run the web server and a worker."""

import json
import os
import secrets
import subprocess
import sys
from datetime import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from safeguard.accounts.models import User
from safeguard.accounts.totp import totp_now
from safeguard.actions.platform_sim import DemoPlatform
from safeguard.audit.services import audit_sequence, public_key
from safeguard.config.demo import credentials_path, demo_night_shift, demo_seed
from safeguard.config.demo_law import (
    demo_deletion_refused,
    demo_held_content,
    demo_release_package,
)


def readme_curl(host: str, port: int, token: str = "$SAFEGUARD_TOKEN") -> str:  # noqa: S107
    body = {
        "channel": "user_report",
        "external_id": "readme-0001",
        "category": "grooming",
        "summary": "A parent reports an adult asking their child to keep their chats secret.",
        "subjects": [
            {"platform_id": "user:readme-suspect", "role": "suspect"},
            {"platform_id": "user:readme-child", "role": "victim", "age": 13},
        ],
        "content": [
            {
                "platform_id": "thread:readme-1",
                "kind": "message_thread",
                "text": "how old are you? keep this just between us",
            }
        ],
    }
    return (
        f"curl -sS -X POST http://{host}:{port}/api/v1/escalations \\\n"
        f'  -H "Authorization: Bearer {token}" -H "Content-Type: application/json" \\\n'
        f"  -d '{json.dumps(body)}'"
    )


class Command(BaseCommand):
    help = "Set up and run the synthetic demo on this machine (SQLite, database task backend)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--seed-only", action="store_true", help="migrate and seed, then exit without serving"
        )
        parser.add_argument(
            "--code", action="store_true", help="print the demo staff's current sign-in code"
        )
        parser.add_argument(
            "--local-time",
            default="03:22",
            help="the time it is for the demo staff: their display zone is set so that it is "
            "about this time now (default 03:22, a night shift); 'keep' leaves their zones alone",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        logins = demo_seed()
        if options["code"]:
            self.stdout.write(totp_now(logins.totp_secret))
            return
        out = self.stdout
        out.write("\nSafeguard demo: every account, message and image here is invented.\n")
        if options["local_time"] != "keep":
            try:
                local = time.fromisoformat(options["local_time"])
            except ValueError:
                raise CommandError(
                    f"--local-time {options['local_time']!r}: give HH:MM (e.g. 03:22) or 'keep'"
                ) from None
            zone = demo_night_shift(local=local)
            out.write(
                f"Night shift: the demo staff see times in {zone}, where it is about "
                f"{local:%H:%M} now (change it on Preferences, or run with --local-time keep).\n"
            )
        out.write(f"Console: http://{options['host']}:{options['port']}/  (sign in as)")
        for username, password in logins.staff.items():
            out.write(f"  {username:<16} {password}")
        out.write(
            "Second factor for all of them: authenticator secret "
            f"{logins.totp_secret}\n  (or the current code: .venv/bin/safeguard demo --code)"
        )
        out.write(f"\nAPI token of the demo platform (service account): {logins.service_token}")
        out.write("File an escalation (201 the first time, 200 with the same ids on repeat):\n")
        out.write(readme_curl(options["host"], options["port"], logins.service_token))
        out.write(f"\nLogins and tokens are saved in {credentials_path()}.")
        # Give the seeded events their leaves and sign a checkpoint now, so that `audit verify`
        # and `audit prove` work before the worker has started.
        audit_sequence()
        against = settings.SAFEGUARD_AUDIT_WITNESS_FILE
        out.write(
            "The audit log is a signed Merkle tree. Verify it against the checkpoints exported "
            "so far:\n  .venv/bin/safeguard audit verify"
            + (f" --against {against}" if against is not None else "")
            + "\nProve one event, and check the proof anywhere with the public key alone:\n"
            "  .venv/bin/safeguard audit prove 5 > proof.json\n"
            f"  .venv/bin/safeguard audit check-proof proof.json --public-key {public_key()}\n"
        )
        package = demo_release_package(legal=User.objects.get(username="lou.legal"))
        if package is not None:
            out.write(
                "Law enforcement: partners use the portal at "
                f"http://{options['host']}:{options['port']}/le/ (legal staff: /le/staff/).\n"
                "An emergency request from the demo sheriff (fictional) was answered with a "
                f"disclosure package: {package.path}\nCheck it with the audit log's public key "
                "alone (change one byte of it and the check names what changed):\n"
                f"  .venv/bin/safeguard custody verify {package.path} --public-key {public_key()}"
            )
            if package.key is not None:
                out.write(
                    f"As the partner downloads it, encrypted: {package.sealed}\n  .venv/bin/"
                    f"safeguard custody verify {package.sealed} --key {package.key} "
                    f"--public-key {public_key()}\n"
                )
            refused = demo_deletion_refused(legal=User.objects.get(username="lou.legal"))
            if refused:
                item = demo_held_content()
                out.write(
                    "Held evidence cannot be deleted by any path (API, console, CLI, retention, "
                    f"vault). Deleting {refused}\n  Try it: .venv/bin/safeguard evidence delete "
                    f"{item.pk if item else ''} --reason test --by lou.legal"
                )
        if options["seed_only"]:
            return
        env = dict(os.environ)
        platform = None
        if not settings.SAFEGUARD_PLATFORM_WEBHOOK_URL:
            # No real platform is configured: a loopback stand-in receives the demo's actions,
            # checks their signatures and confirms them.
            secret = secrets.token_urlsafe(32)
            platform = DemoPlatform(secret.encode()).start()
            env["SAFEGUARD_PLATFORM_WEBHOOK_URL"] = platform.url
            env["SAFEGUARD_PLATFORM_WEBHOOK_SECRET"] = secret
            out.write(f"Demo platform (receives and confirms actions): {platform.url}")
        worker = subprocess.Popen([sys.executable, "-m", "safeguard.config.cli", "worker"], env=env)
        try:
            call_command("serve", host=options["host"], port=options["port"])
        finally:
            worker.terminate()
            worker.wait(timeout=10)
            if platform is not None:
                platform.stop()
