"""`safeguard diagrams`: regenerate the process diagrams in docs/process from the state machines."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safeguard.cases.workflow import diagram_markdown
from safeguard.config.demo_docs import demo_table_markdown

# Documents generated from code, by path under docs/.
DIAGRAMS = {"process/case.md": diagram_markdown, "triage.md": demo_table_markdown}


class Command(BaseCommand):
    help = "Write the generated docs (process diagrams, the demo triage table); --check compares."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default="docs")
        parser.add_argument("--check", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        stale = []
        for name, render in DIAGRAMS.items():
            path = out / name
            text = render()
            current = path.read_text(encoding="utf-8") if path.exists() else None
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
