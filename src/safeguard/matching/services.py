"""Banks (create, import, export, enable/disable), matching hashes against them, and scanning
stored media so that a match becomes an automated escalation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.core.errors import Invalid, NotFound
from safeguard.matching import registry
from safeguard.matching.formats import BankFormat, ExportRow, parse_bank_file, render_bank_file
from safeguard.matching.models import Bank, BankEntry, IndexGeneration, MatchLookup
from safeguard.matching.signal_types import HashResult
from safeguard.matching.signals import get_signal_type
from safeguard.matching.video_signal import VideoSignal, identity

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
# PDQ and video frames: Hamming distance. Video also: the percentage of the query's frames that
# may go unmatched (20 = at least 80% of its frames must match, vPDQ's default).
DEFAULT_THRESHOLDS = {"pdq": 31, "md5": 0, "sha256": 0, "video": 20}
LIMITS = {"pdq": 64, "md5": 0, "sha256": 0, "video": 100}


class BankError(Invalid):
    """A bank request that cannot be carried out; the message says why."""


class BankNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"no bank {name!r}")


def _bump_generation() -> None:
    IndexGeneration.objects.get_or_create(pk=1)
    IndexGeneration.objects.filter(pk=1).update(generation=F("generation") + 1)


def _thresholds(raw: dict[str, int] | None) -> dict[str, int]:
    merged = dict(DEFAULT_THRESHOLDS)
    for signal, value in (raw or {}).items():
        if signal not in DEFAULT_THRESHOLDS:
            raise BankError(f"no threshold applies to signal type {signal!r}")
        limit = LIMITS[signal]
        if not isinstance(value, int) or not 0 <= value <= limit:
            raise BankError(f"the {signal} threshold must be a whole number from 0 to {limit}")
        merged[signal] = value
    return merged


@transaction.atomic
def bank_create(
    *,
    name: str,
    actor: User | None,
    source: AuditSource,
    description: str = "",
    verified: bool = False,
    allow_list: bool = False,
    thresholds: dict[str, int] | None = None,
) -> Bank:
    if not _NAME.match(name):
        raise BankError("a bank name is 1-100 lowercase letters, digits and hyphens")
    if verified and allow_list:
        raise BankError("a bank is either verified material or an allow-list, not both")
    if Bank.objects.filter(name=name).exists():
        raise BankError(f"a bank named {name!r} already exists")
    bank = Bank.objects.create(
        name=name,
        description=description,
        verified=verified,
        allow_list=allow_list,
        thresholds=_thresholds(thresholds),
        created_at=timezone.now(),
        created_by=actor,
    )
    audit_record(
        event_type=AuditEventType.BANK_CREATED,
        actor=actor,
        source=source,
        target_type="bank",
        target_id=bank.name,
        data={"verified": verified, "allow_list": allow_list, "thresholds": bank.thresholds},
    )
    return bank


@dataclass(frozen=True)
class ImportResult:
    added: int
    already_present: int


@transaction.atomic
def bank_import(
    *,
    bank: Bank,
    text: str,
    fmt: BankFormat,
    actor: User | None,
    source: AuditSource,
    signal_type: str | None = None,
    provenance: str = "",
) -> ImportResult:
    """Import a bank file whole or not at all (BankFileError lists every bad line)."""
    entries = parse_bank_file(text, fmt, signal_type=signal_type)
    floor = settings.SAFEGUARD_PDQ_MIN_QUALITY
    low = [
        e for e in entries if e.signal_type == "pdq" and e.quality is not None and e.quality < floor
    ]
    if low:
        from safeguard.matching.formats import BankFileError, LineError

        raise BankFileError(
            [
                LineError(e.line, f"PDQ quality {e.quality} is below the bank floor of {floor}")
                for e in low
            ]
        )
    now = timezone.now()
    existing = set(BankEntry.objects.filter(bank=bank).values_list("signal_type", "hash"))
    fresh: dict[tuple[str, str], BankEntry] = {}
    for e in entries:
        # A video's frames can run to kilobytes: the entry keeps them, keyed by their SHA-256.
        digest = identity(e.hash) if e.signal_type == "video" else e.hash
        key = (e.signal_type, digest)
        if key in existing or key in fresh:
            continue
        fresh[key] = BankEntry(
            bank=bank,
            signal_type=e.signal_type,
            hash=digest,
            frames=e.hash if e.signal_type == "video" else "",
            quality=e.quality,
            source=e.source or provenance,
            external_id=e.external_id,
            note=e.note,
            added_by=actor,
            added_at=now,
        )
    BankEntry.objects.bulk_create(list(fresh.values()), batch_size=2000)
    result = ImportResult(added=len(fresh), already_present=len(entries) - len(fresh))
    audit_record(
        event_type=AuditEventType.BANK_ENTRIES_IMPORTED,
        actor=actor,
        source=source,
        target_type="bank",
        target_id=bank.name,
        data={
            "format": fmt.value,
            "added": result.added,
            "already_present": result.already_present,
            "provenance": provenance,
        },
    )
    return result


def bank_add_media(
    *,
    bank: Bank,
    data: bytes,
    actor: User | None,
    source: AuditSource,
    provenance: str = "",
    note: str = "",
    kind: str = "image",
) -> list[BankEntry]:
    """Hash media into a bank: PDQ (or the video's frames), MD5 and SHA-256. An image whose
    PDQ quality is below the floor is refused: too flat or dark to match reliably."""
    if kind == "video":
        perceptual = get_signal_type("video").hash_bytes(data, max_bytes=len(data))
    else:
        perceptual = get_signal_type("pdq").hash_bytes(data, max_bytes=len(data))
        floor = settings.SAFEGUARD_PDQ_MIN_QUALITY
        if perceptual.quality is not None and perceptual.quality < floor:
            raise BankError(
                f"the image's PDQ quality is {perceptual.quality}, below the bank floor of "
                f"{floor}: too flat or dark to match reliably"
            )
    results = [perceptual] + [
        get_signal_type(s).hash_bytes(data, max_bytes=len(data)) for s in ("md5", "sha256")
    ]
    lines = "signal_type,hash,quality,note,source\n" + "".join(
        f"{r.signal_type},{r.hash},{'' if r.quality is None else r.quality},{note},{provenance}\n"
        for r in results
    )
    bank_import(bank=bank, text=lines, fmt=BankFormat.CSV, actor=actor, source=source)
    keys = [identity(r.hash) if r.signal_type == "video" else r.hash for r in results]
    return list(BankEntry.objects.filter(bank=bank, hash__in=keys).order_by("id"))


def bank_export(*, bank: Bank, fmt: BankFormat, include_disabled: bool = False) -> str:
    entries = BankEntry.objects.filter(bank=bank).order_by("id")
    if not include_disabled:
        entries = entries.filter(enabled=True)
    return render_bank_file(
        (
            ExportRow(
                e.signal_type,
                e.frames if e.signal_type == "video" else e.hash,
                e.quality,
                e.external_id,
                e.note,
                e.source,
            )
            for e in entries.iterator()
        ),
        fmt,
    )


@transaction.atomic
def bank_set_enabled(*, bank: Bank, enabled: bool, actor: User | None, source: AuditSource) -> Bank:
    bank.enabled = enabled
    bank.save(update_fields=["enabled"])
    _bump_generation()
    audit_record(
        event_type=AuditEventType.BANK_ENABLED_CHANGED,
        actor=actor,
        source=source,
        target_type="bank",
        target_id=bank.name,
        data={"enabled": enabled},
    )
    return bank


@transaction.atomic
def bank_entry_set_enabled(
    *, entry: BankEntry, enabled: bool, actor: User | None, source: AuditSource, reason: str
) -> BankEntry:
    if not reason.strip():
        raise BankError("enabling or disabling an entry needs a reason")
    entry.enabled = enabled
    entry.save(update_fields=["enabled"])
    _bump_generation()
    audit_record(
        event_type=AuditEventType.BANK_ENTRY_ENABLED_CHANGED,
        actor=actor,
        source=source,
        target_type="bank",
        target_id=entry.bank.name,
        data={"entry": entry.pk, "enabled": enabled, "reason": reason},
    )
    return entry


@dataclass(frozen=True)
class Hit:
    bank: str
    entry_id: int
    distance: int
    signal_type: str
    verified: bool
    allow_list: bool
    low_confidence: bool


@dataclass
class QueryResult:
    query: HashResult
    hits: list[Hit] = field(default_factory=list)

    @property
    def allow_listed(self) -> bool:
        return any(h.allow_list for h in self.hits)

    def actionable(self) -> list[Hit]:
        """Matches against non-allow banks, unless an allow-list entry also matched."""
        if self.allow_listed:
            return []
        return [h for h in self.hits if not h.allow_list]


def _bank_filter(banks: Sequence[str] | None) -> dict[int, Bank]:
    qs = Bank.objects.filter(enabled=True)
    if banks:
        qs = qs.filter(name__in=list(banks))
    return {b.pk: b for b in qs}


def match_hashes(
    queries: Sequence[HashResult], *, banks: Sequence[str] | None = None
) -> list[QueryResult]:
    """Every enabled entry within its bank's threshold, for each query; nothing beyond."""
    live = _bank_filter(banks)
    if banks and len({b.name for b in live.values()}) != len(set(banks)):
        missing = sorted(set(banks) - {b.name for b in live.values()})
        raise BankNotFound(", ".join(missing))
    floor = settings.SAFEGUARD_PDQ_MIN_QUALITY
    results = []
    radius = max((b.thresholds.get("pdq", 31) for b in live.values()), default=31)
    for query in queries:
        result = QueryResult(query)
        if query.signal_type == "pdq":
            found = {m.entry_id: m.distance for m in registry.pdq_query(query.hash, radius)}
            entries = BankEntry.objects.filter(
                pk__in=list(found), enabled=True, bank_id__in=list(live)
            ).values_list("pk", "bank_id")
            low = query.quality is not None and query.quality < floor
            for pk, bank_id in entries:
                bank = live[bank_id]
                if found[pk] <= bank.thresholds.get("pdq", 31):
                    result.hits.append(
                        Hit(bank.name, pk, found[pk], "pdq", bank.verified, bank.allow_list, low)
                    )
        elif query.signal_type == "video":
            video = get_signal_type("video")
            assert isinstance(video, VideoSignal)  # noqa: S101 - the registry's video type
            candidates = BankEntry.objects.filter(
                signal_type="video", enabled=True, bank_id__in=list(live)
            ).values_list("pk", "bank_id", "frames")
            for pk, bank_id, frames in candidates.iterator():
                bank = live[bank_id]
                unmatched = bank.thresholds.get("video", 20)
                distance = video.compare(
                    query.hash,
                    frames,
                    frame_distance=bank.thresholds.get("pdq", 31),
                    share=(100 - unmatched) / 100,
                )
                if distance is not None:
                    result.hits.append(
                        Hit(bank.name, pk, distance, "video", bank.verified, bank.allow_list, False)
                    )
        else:
            entries = BankEntry.objects.filter(
                signal_type=query.signal_type,
                hash=query.hash,
                enabled=True,
                bank_id__in=list(live),
            ).values_list("pk", "bank_id")
            for pk, bank_id in entries:
                bank = live[bank_id]
                result.hits.append(
                    Hit(bank.name, pk, 0, query.signal_type, bank.verified, bank.allow_list, False)
                )
        result.hits.sort(key=lambda h: (h.distance, h.bank, h.entry_id))
        results.append(result)
    return results


def lookup_record(
    *, actor: User | None, source: AuditSource, results: Sequence[QueryResult]
) -> MatchLookup:
    """Record who asked and what matched: hashes and entry ids, never the media."""
    return MatchLookup.objects.create(
        actor=actor,
        source=source.value,
        queries=[{"signal_type": r.query.signal_type, "hash": r.query.hash} for r in results],
        matches=[
            [{"bank": h.bank, "entry_id": h.entry_id, "distance": h.distance} for h in r.hits]
            for r in results
        ],
        asked_at=timezone.now(),
    )
