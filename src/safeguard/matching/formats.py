"""Bank file formats: plain text, CSV with metadata, and python-threatexchange's signal lines.

Parsing is all-or-nothing: every line is checked first, and a file with any bad line yields the
list of problems (with line numbers) and no entries, so a bad file imports nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from safeguard.core.errors import Invalid
from safeguard.matching.signal_types import InvalidHash, UnknownSignalType
from safeguard.matching.signals import get_signal_type


class BankFormat(StrEnum):
    TEXT = "text"
    CSV = "csv"
    THREATEXCHANGE = "te"


# python-threatexchange names its signal types by content; these are the ones Safeguard holds.
TE_NAMES = {"pdq": "pdq", "video_md5": "md5", "photo_md5": "md5", "md5": "md5", "sha256": "sha256"}
# Safeguard's own video hash text (`sgv1;…`) is one token, so it fits every format too.
CSV_COLUMNS = ("signal_type", "hash", "quality", "external_id", "note", "source")
MAX_FIELD = 500


@dataclass(frozen=True)
class ParsedEntry:
    line: int
    signal_type: str
    hash: str
    quality: int | None = None
    external_id: str = ""
    note: str = ""
    source: str = ""


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class BankFileError(Invalid):
    """A bank file with at least one bad line; nothing from it may be imported."""

    def __init__(self, errors: list[LineError]) -> None:
        shown = "; ".join(str(e) for e in errors[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        super().__init__(f"{len(errors)} bad line(s): {shown}{more}")
        self.errors = errors


def _check(signal_type: str, raw_hash: str) -> str:
    try:
        return get_signal_type(signal_type).validate(raw_hash)
    except UnknownSignalType:
        raise ValueError(f"unknown signal type {signal_type!r}") from None
    except InvalidHash as exc:
        raise ValueError(str(exc)) from None


def _lines(text: str) -> Iterable[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def _parse_text(text: str, signal_type: str | None) -> tuple[list[ParsedEntry], list[LineError]]:
    if signal_type is None:
        # PDQ and SHA-256 are both 64 hexadecimal characters: the type cannot be guessed.
        return [], [LineError(0, "plain text files need the signal type (e.g. --signal-type pdq)")]
    entries, errors = [], []
    for number, line in _lines(text):
        try:
            entries.append(ParsedEntry(number, signal_type, _check(signal_type, line)))
        except ValueError as exc:
            errors.append(LineError(number, str(exc)))
    return entries, errors


def _parse_te(text: str, signal_type: str | None) -> tuple[list[ParsedEntry], list[LineError]]:
    entries, errors = [], []
    for number, line in _lines(text):
        parts = line.split(maxsplit=2)
        if len(parts) < 2:
            errors.append(LineError(number, "expected '<signal type> <hash>'"))
            continue
        name = TE_NAMES.get(parts[0].lower())
        if name is None:
            errors.append(LineError(number, f"unsupported signal type {parts[0]!r}"))
            continue
        if signal_type is not None and name != signal_type:
            continue
        try:
            entries.append(
                ParsedEntry(number, name, _check(name, parts[1]), note=(parts[2:] or [""])[0])
            )
        except ValueError as exc:
            errors.append(LineError(number, str(exc)))
    return entries, errors


def _parse_csv(text: str, signal_type: str | None) -> tuple[list[ParsedEntry], list[LineError]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = reader.fieldnames or []
    if "hash" not in fields:
        return [], [LineError(1, f"the header must name a 'hash' column; it has {fields}")]
    unknown = [f for f in fields if f not in CSV_COLUMNS]
    if unknown:
        return [], [LineError(1, f"unknown column(s) {unknown}; known: {list(CSV_COLUMNS)}")]
    if "signal_type" not in fields and signal_type is None:
        return [], [LineError(1, "no 'signal_type' column: give the signal type")]
    entries, errors = [], []
    for row in reader:
        number = reader.line_num
        kind = (row.get("signal_type") or signal_type or "").strip().lower()
        values = {k: (row.get(k) or "").strip() for k in ("external_id", "note", "source")}
        too_long = [k for k, v in values.items() if len(v) > MAX_FIELD]
        if too_long:
            errors.append(LineError(number, f"{too_long[0]} is longer than {MAX_FIELD} chars"))
            continue
        raw_quality = (row.get("quality") or "").strip()
        if raw_quality and not (raw_quality.isdigit() and int(raw_quality) <= 100):
            errors.append(LineError(number, f"quality {raw_quality!r} is not 0..100"))
            continue
        try:
            digest = _check(kind, (row.get("hash") or "").strip())
        except ValueError as exc:
            errors.append(LineError(number, str(exc)))
            continue
        quality = int(raw_quality) if raw_quality else None
        entries.append(ParsedEntry(number, kind, digest, quality, **values))
    return entries, errors


_PARSERS: dict[
    BankFormat, Callable[[str, str | None], tuple[list[ParsedEntry], list[LineError]]]
] = {
    BankFormat.TEXT: _parse_text,
    BankFormat.CSV: _parse_csv,
    BankFormat.THREATEXCHANGE: _parse_te,
}


def parse_bank_file(
    text: str, fmt: BankFormat, *, signal_type: str | None = None
) -> list[ParsedEntry]:
    """Every entry of the file, or BankFileError listing every bad line."""
    entries, errors = _PARSERS[fmt](text, signal_type)
    if errors:
        raise BankFileError(errors)
    return entries


@dataclass(frozen=True)
class ExportRow:
    signal_type: str
    hash: str
    quality: int | None
    external_id: str
    note: str
    source: str


def render_bank_file(rows: Iterable[ExportRow], fmt: BankFormat) -> str:
    """The inverse of `parse_bank_file` (plain text holds hashes only)."""
    if fmt is BankFormat.TEXT:
        return "".join(f"{r.hash}\n" for r in rows)
    if fmt is BankFormat.THREATEXCHANGE:
        return "".join(f"{r.signal_type} {r.hash}\n" for r in rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        quality = "" if r.quality is None else str(r.quality)
        writer.writerow([r.signal_type, r.hash, quality, r.external_id, r.note, r.source])
    return out.getvalue()
