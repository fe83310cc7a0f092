"""`safeguard media render`: make the previews of stored media that has none yet (for example
media stored before previews were rendered at upload), in this process, within the limits."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from safeguard.evidence.models import Blob, RenderState
from safeguard.evidence.rendering import blob_render


class Command(BaseCommand):
    help = "Render the previews of stored media that is still waiting for them."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("render", help="render every blob whose previews are pending")

    def handle(self, *args: Any, **options: Any) -> None:
        pending = list(
            Blob.objects.filter(render_state=RenderState.PENDING).values_list("sha256", flat=True)
        )
        outcome = {state: 0 for state in RenderState}
        for sha256 in pending:
            outcome[RenderState(blob_render(sha256=sha256).render_state)] += 1
        self.stdout.write(
            f"{len(pending)} pending: {outcome[RenderState.READY]} rendered, "
            f"{outcome[RenderState.FAILED]} could not be rendered (the console says why)"
        )
