"""`safeguard diagrams`: regenerate the documents generated from code (the process diagrams from
the state machines, the demo triage table, the layers picture from the import-linter contract,
the built-in playbooks)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safeguard.cases.playbooks import default_playbooks, playbooks_markdown
from safeguard.cases.workflow import diagram_markdown
from safeguard.config.demo_docs import demo_table_markdown
from safeguard.config.layers_doc import LayersError, spliced
from safeguard.lawenforcement.workflow import diagram_markdown as le_request_diagram

PYPROJECT = Path("pyproject.toml")

# Documents generated from code, by path under docs/: each renders from the current text.
DIAGRAMS: dict[str, Callable[[str], str]] = {
    "process/case.md": lambda _: diagram_markdown(),
    "process/law-enforcement-request.md": lambda _: le_request_diagram(),
    "triage.md": lambda _: demo_table_markdown(),
    "architecture.md": lambda current: spliced(current, PYPROJECT),
    "playbooks.md": lambda _: playbooks_markdown(
        default_playbooks(), source_name="src/safeguard/cases/default_playbooks.yaml"
    ),
}


class Command(BaseCommand):
    help = "Write the docs generated from code (diagrams, triage table, layers); --check compares."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default="docs")
        parser.add_argument("--check", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        stale = []
        for name, render in DIAGRAMS.items():
            path = out / name
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            try:
                text = render(current)
            except (LayersError, OSError) as exc:
                raise CommandError(f"{path}: {exc}") from None
            if current == text:
                continue
            if options["check"]:
                stale.append(str(path))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                self.stdout.write(f"wrote {path}")
        if stale:
            raise CommandError(f"out of date (run `safeguard diagrams`): {', '.join(stale)}")
