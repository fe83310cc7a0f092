"""Matching endpoints: match hashes or media against the banks; manage banks (admins)."""

import json
from typing import Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status
from pydantic import BaseModel, Field, ValidationError

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.matching.formats import BankFormat
from safeguard.matching.models import Bank, BankEntry
from safeguard.matching.scanning import hash_media
from safeguard.matching.selectors import bank_get_for, banks_for
from safeguard.matching.services import (
    BankError,
    bank_create,
    bank_entry_set_enabled,
    bank_export,
    bank_import,
    bank_set_enabled,
    lookup_record,
    match_hashes,
)
from safeguard.matching.signal_types import (
    HashResult,
    InvalidHash,
    UnknownSignalType,
    get_signal_type,
)

router = Router(tags=["matching"])


class HashIn(Schema):
    signal_type: Literal["pdq", "md5", "sha256", "video"]
    hash: str
    quality: int | None = Field(default=None, ge=0, le=100)


class MatchIn(Schema):
    hashes: list[HashIn] = Field(min_length=1, max_length=1000)
    banks: list[str] | None = None


class HitOut(BaseModel):
    entry_id: int
    distance: int
    signal_type: str
    low_confidence: bool
    allow_list: bool
    verified: bool


def _validated(items: list[HashIn]) -> list[HashResult]:
    out = []
    for i, item in enumerate(items):
        try:
            normal = get_signal_type(item.signal_type).validate(item.hash)
        except (InvalidHash, UnknownSignalType) as exc:
            raise BankError(f"hashes[{i}]: {exc}") from None
        out.append(HashResult(item.signal_type, normal, item.quality))
    return out


def _answer(
    request: HttpRequest, queries: list[HashResult], banks: list[str] | None
) -> dict[str, list[HitOut]]:
    results = match_hashes(queries, banks=banks)
    lookup_record(actor=request.auth, source=AuditSource.API, results=results)  # type: ignore[attr-defined]
    grouped: dict[str, list[HitOut]] = {}
    for result in results:
        for hit in result.hits:
            grouped.setdefault(hit.bank, []).append(
                HitOut(
                    entry_id=hit.entry_id,
                    distance=hit.distance,
                    signal_type=hit.signal_type,
                    low_confidence=hit.low_confidence,
                    allow_list=hit.allow_list,
                    verified=hit.verified,
                )
            )
    return grouped


@router.post(
    "/match",
    response=dict[str, list[HitOut]],
    auth=requires(Permission.MATCHING_HASH_MATCH),
    summary="Match hashes (JSON) or media (multipart field `file`) against the banks",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": MatchIn.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "kind": {"type": "string", "enum": ["image", "video"]},
                        },
                    }
                },
            }
        }
    },
)
def match(request: HttpRequest) -> dict[str, list[HitOut]]:
    if request.content_type.startswith("multipart/form-data"):
        upload = request.FILES.get("file")
        if upload is None:
            raise BankError("multipart field 'file' is missing")
        limit = settings.SAFEGUARD_MAX_MEDIA_BYTES
        if upload.size is not None and upload.size > limit:
            from safeguard.evidence.vault import TooLarge

            raise TooLarge(limit)
        kind = request.POST.get("kind", "image")
        if kind not in ("image", "video"):
            raise BankError("field 'kind' must be 'image' or 'video'")
        # The bytes are hashed in memory and dropped: a lookup never stores media.
        queries = hash_media(upload.read(), kind)
        return _answer(request, queries, None)
    try:
        body = MatchIn.model_validate(json.loads(request.body or b"null"))
    except json.JSONDecodeError as exc:
        raise HttpError(400, f"malformed JSON: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise BankError(f"invalid request: {problems}") from None
    return _answer(request, _validated(body.hashes), body.banks)


class BankIn(Schema):
    name: str
    description: str = ""
    verified: bool = False
    allow_list: bool = False
    thresholds: dict[str, int] = {}


class BankOut(BaseModel):
    name: str
    description: str
    enabled: bool
    verified: bool
    allow_list: bool
    thresholds: dict[str, int]
    entries: int
    enabled_entries: int


def _bank_out(bank: Bank) -> BankOut:
    return BankOut(
        name=bank.name,
        description=bank.description,
        enabled=bank.enabled,
        verified=bank.verified,
        allow_list=bank.allow_list,
        thresholds=bank.thresholds,
        entries=getattr(bank, "entry_count", 0),
        enabled_entries=getattr(bank, "enabled_count", 0),
    )


@router.get("/banks", response=list[BankOut], auth=requires(Permission.MATCHING_BANK_MANAGE))
def bank_list(request: HttpRequest) -> list[BankOut]:
    return [_bank_out(b) for b in banks_for(user=request.auth)]  # type: ignore[attr-defined]


@router.post("/banks", response={201: BankOut}, auth=requires(Permission.MATCHING_BANK_MANAGE))
def bank_post(request: HttpRequest, payload: BankIn) -> Status[BankOut]:
    bank_create(
        name=payload.name,
        description=payload.description,
        verified=payload.verified,
        allow_list=payload.allow_list,
        thresholds=payload.thresholds,
        actor=request.auth,  # type: ignore[attr-defined]
        source=AuditSource.API,
    )
    return Status(201, _bank_out(bank_get_for(user=request.auth, name=payload.name)))  # type: ignore[attr-defined]


class ImportIn(Schema):
    format: BankFormat
    content: str = Field(min_length=1, max_length=50_000_000)
    signal_type: Literal["pdq", "md5", "sha256", "video"] | None = None
    provenance: str = Field(default="", max_length=500)


class ImportOut(BaseModel):
    added: int
    already_present: int


@router.post(
    "/banks/{name}/import", response=ImportOut, auth=requires(Permission.MATCHING_BANK_MANAGE)
)
def bank_import_post(request: HttpRequest, name: str, payload: ImportIn) -> ImportOut:
    bank = bank_get_for(user=request.auth, name=name)  # type: ignore[attr-defined]
    result = bank_import(
        bank=bank,
        text=payload.content,
        fmt=payload.format,
        signal_type=payload.signal_type,
        provenance=payload.provenance,
        actor=request.auth,  # type: ignore[attr-defined]
        source=AuditSource.API,
    )
    return ImportOut(added=result.added, already_present=result.already_present)


class ExportQuery(Schema):
    format: BankFormat = BankFormat.CSV


@router.get("/banks/{name}/export", auth=requires(Permission.MATCHING_BANK_MANAGE))
def bank_export_get(request: HttpRequest, name: str, query: Query[ExportQuery]) -> HttpResponse:
    bank = bank_get_for(user=request.auth, name=name)  # type: ignore[attr-defined]
    kind = "text/csv" if query.format is BankFormat.CSV else "text/plain"
    return HttpResponse(
        bank_export(bank=bank, fmt=query.format), content_type=f"{kind}; charset=utf-8"
    )


class EnabledIn(Schema):
    enabled: bool
    reason: str = ""


@router.post(
    "/banks/{name}/enabled", response=BankOut, auth=requires(Permission.MATCHING_BANK_MANAGE)
)
def bank_enabled(request: HttpRequest, name: str, payload: EnabledIn) -> BankOut:
    bank = bank_get_for(user=request.auth, name=name)  # type: ignore[attr-defined]
    bank_set_enabled(bank=bank, enabled=payload.enabled, actor=request.auth, source=AuditSource.API)  # type: ignore[attr-defined]
    return _bank_out(bank_get_for(user=request.auth, name=name))  # type: ignore[attr-defined]


@router.post(
    "/banks/{name}/entries/{entry_id}/enabled",
    response=BankOut,
    auth=requires(Permission.MATCHING_BANK_MANAGE),
)
def entry_enabled(request: HttpRequest, name: str, entry_id: int, payload: EnabledIn) -> BankOut:
    bank = bank_get_for(user=request.auth, name=name)  # type: ignore[attr-defined]
    entry = BankEntry.objects.filter(bank=bank, pk=entry_id).first()
    if entry is None:
        raise BankError(f"bank {name!r} has no entry {entry_id}")
    bank_entry_set_enabled(
        entry=entry,
        enabled=payload.enabled,
        reason=payload.reason,
        actor=request.auth,  # type: ignore[attr-defined]
        source=AuditSource.API,
    )
    return _bank_out(bank_get_for(user=request.auth, name=name))  # type: ignore[attr-defined]
