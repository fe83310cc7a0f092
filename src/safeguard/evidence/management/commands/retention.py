"""`safeguard retention plan|run|schedule`: what is past its retention period, deleting it, and
scheduling the daily job."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safeguard.audit.events import AuditSource
from safeguard.evidence.retention import (
    PlanEntry,
    RetentionConfigError,
    retention_plan,
    retention_policy,
    retention_run,
    retention_schedule,
)


def _line(entry: PlanEntry) -> str:
    return (
        f"{entry.content_id}  {entry.rule.data_type:<20} {entry.kind:<15} "
        f"{entry.platform}:{entry.platform_id}  due {entry.due_at:%Y-%m-%d}  sha256 {entry.sha256}"
    )


class Command(BaseCommand):
    help = "Retention of evidence: a dry run (plan), deleting what is due (run), the daily job."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("plan", help="list what is past retention and what holds keep; no change")
        sub.add_parser("run", help="delete what is past retention and under no hold (audited)")
        sub.add_parser("schedule", help="make sure the daily job is scheduled (idempotent)")
        sub.add_parser("policy", help="print the retention periods and their sources")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            action = options["action"]
            if action == "policy":
                self._policy()
            elif action == "plan":
                self._plan()
            elif action == "run":
                self._run()
            else:
                run, created = retention_schedule()
                verb = "scheduled" if created else "already scheduled"
                self.stdout.write(f"retention job {verb} for {run.due.isoformat()}")
        except RetentionConfigError as exc:
            raise CommandError(str(exc)) from None

    def _policy(self) -> None:
        policy = retention_policy()
        self.stdout.write(f"daily at {policy.daily_at:%H:%M} UTC")
        for rule in policy.rules:
            self.stdout.write(
                f"{rule.data_type}: {rule.part.value}, {rule.period.days} days from "
                f"{rule.counts_from} — {rule.source}"
            )

    def _plan(self) -> None:
        plan = retention_plan()
        self.stdout.write(
            f"retention plan at {plan.now:%Y-%m-%d %H:%M} UTC (dry run: nothing is changed)"
        )
        self.stdout.write(f"would delete {len(plan.to_delete)}:")
        for entry in plan.to_delete:
            self.stdout.write("  " + _line(entry))
        self.stdout.write(
            f"past retention but kept under a legal hold: {len(plan.kept_under_hold)}"
        )
        for entry in plan.kept_under_hold:
            self.stdout.write("  " + _line(entry))
            for hold in entry.holds:
                self.stdout.write(f"      kept by {hold}")

    def _run(self) -> None:
        result = retention_run(source=AuditSource.CLI)
        self.stdout.write(f"deleted {len(result.deleted)} (recorded as hashes):")
        for tombstone in result.deleted:
            digest = tombstone.media_sha256 or tombstone.text_sha256
            self.stdout.write(f"  {tombstone.content_id}  sha256 {digest}")
        self.stdout.write(f"kept under a legal hold: {len(result.kept_under_hold)}")
        if result.swept:
            self.stdout.write(f"removed {result.swept} vault file(s) left by earlier deletions")
        run, created = retention_schedule()
        if created:
            self.stdout.write(
                f"the daily job was not scheduled; scheduled for {run.due.isoformat()}"
            )
