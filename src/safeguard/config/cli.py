"""The `safeguard` command: Django's management commands under one name, with clear errors."""

from __future__ import annotations

import os
import sys

# Commands that only make sense on a local trial machine run in development mode unless told
# otherwise, so that `safeguard demo` works on a fresh checkout without any secret set.
_DEVELOPMENT_COMMANDS = {"demo"}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safeguard.config.settings")
    if args and args[0] in _DEVELOPMENT_COMMANDS:
        os.environ.setdefault("SAFEGUARD_ENV", "development")
    from safeguard.config.env import ConfigurationError

    try:
        import django

        django.setup()
    except ConfigurationError as exc:
        sys.stderr.write(f"safeguard: configuration error: {exc}\n")
        raise SystemExit(2) from None

    from django.core.management import execute_from_command_line

    execute_from_command_line(["safeguard", *args])


if __name__ == "__main__":
    main()
