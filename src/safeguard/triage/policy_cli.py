"""`safeguard triage policy list|upload|shadow|promote`: the policy lifecycle at the command
line, in the name of the administrator who decided each change (audited, source "cli")."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from safeguard.accounts.models import User
from safeguard.audit.events import AuditSource
from safeguard.core.errors import DomainError
from safeguard.core.textfile import Unreadable, read_text
from safeguard.triage.lifecycle import policy_promote, policy_shadow, policy_upload
from safeguard.triage.models import PolicyStatus, TriagePolicy
from safeguard.triage.policy import MAX_POLICY_BYTES, PolicyError

__all__ = ["main"]

PROG = "safeguard triage policy"


class _Refused(Exception):
    pass


def _actor(username: str) -> User:
    actor = User.objects.filter(username=username, is_active=True).first()
    if actor is None:
        raise _Refused(f"no active user named {username!r}")
    return actor


def _read(name: str) -> str:
    try:
        return read_text(name, max_bytes=MAX_POLICY_BYTES)
    except Unreadable as exc:
        raise _Refused(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG)
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="every uploaded version and its status")
    upload = sub.add_parser("upload", help="compile and store a policy (live unless told)")
    upload.add_argument("file")
    upload.add_argument(
        "--status", choices=[s.value for s in PolicyStatus], default=PolicyStatus.LIVE.value
    )
    upload.add_argument("--by", required=True, help="the administrator deciding it (recorded)")
    shadow = sub.add_parser("shadow", help="make an uploaded version the shadow policy")
    shadow.add_argument("version")
    shadow.add_argument("--by", required=True)
    promote = sub.add_parser("promote", help="make an uploaded version live, with a reason")
    promote.add_argument("version")
    promote.add_argument("--by", required=True)
    promote.add_argument("--reason", required=True)
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.action == "list":
            for version, status, uploaded_at in TriagePolicy.objects.order_by(
                "uploaded_at"
            ).values_list("version", "status", "uploaded_at"):
                sys.stdout.write(f"{status:6}  {version}  uploaded {uploaded_at.isoformat()}\n")
            return 0
        actor = _actor(args.by)
        if args.action == "upload":
            record = policy_upload(
                source_text=_read(args.file),
                status=PolicyStatus(args.status),
                actor=actor,
                source=AuditSource.CLI,
            )
        elif args.action == "shadow":
            record = policy_shadow(version=args.version, actor=actor, source=AuditSource.CLI)
        else:
            record = policy_promote(
                version=args.version, actor=actor, source=AuditSource.CLI, reason=args.reason
            )
    except PolicyError as exc:
        sys.stderr.write(f"{PROG}: {args.file} does not compile:\n{exc}\n")
        return 2
    except (DomainError, _Refused) as exc:
        sys.stderr.write(f"{PROG}: {exc}\n")
        return 2
    sys.stdout.write(f"{record.version} is {record.status}\n")
    return 0
