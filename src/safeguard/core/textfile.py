"""Reading a text file a person named on the command line: bounded, and with one clear error."""

from __future__ import annotations

from pathlib import Path


class Unreadable(ValueError):
    """The file is missing, unreadable, too large or not UTF-8; the message says which."""


def read_text(name: str, *, max_bytes: int) -> str:
    path = Path(name)
    try:
        if path.stat().st_size > max_bytes:
            raise Unreadable(f"{name}: larger than {max_bytes} bytes")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable(f"cannot read {name}: {exc}") from None
