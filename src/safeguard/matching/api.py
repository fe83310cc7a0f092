"""Matching endpoints: match hashes or media against the banks; manage banks (admins)."""

from typing import Annotated, Final, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router
from ninja.errors import HttpError, ValidationError
from ninja.responses import Status
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic import ValidationError as PydanticValidationError

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.core.fields import IDENTIFIER, STORABLE, ApiIn, Choice, DbId, QueryIn
from safeguard.core.json_body import BodyRefused, check_media_type, decode_json
from safeguard.core.openapi import answers, body_schema
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
from safeguard.matching.signal_types import HashResult, InvalidHash, UnknownSignalType
from safeguard.matching.signals import get_signal_type

router = Router(tags=["matching"])


# A bank's name as bank_create accepts it; in a path or a body, anything else is refused early.
BankName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")]
SignalName = Literal["pdq", "md5", "sha256", "video"]
# A PDQ, MD5 or SHA-256 hash is at most 64 hexadecimal characters (with room for whitespace);
# a video hash lists its frames, each about 75 characters, so an hour at a frame a second fits.
_MAX_HASH: Final = 128
_MAX_VIDEO_HASH: Final = 400_000


class HashIn(ApiIn):
    signal_type: SignalName
    hash: Annotated[str, Field(min_length=1, max_length=_MAX_VIDEO_HASH), IDENTIFIER]
    quality: Annotated[int, Field(ge=0, le=100)] | None = None

    @field_validator("hash")
    @classmethod
    def _hash_form(cls, value: str, info: ValidationInfo) -> str:
        if not value.isascii():
            raise ValueError("must be ASCII (hexadecimal digits, or a video hash's text)")
        signal_type = info.data.get("signal_type")
        if signal_type not in (None, "video") and len(value) > _MAX_HASH:
            raise ValueError(f"a {signal_type} hash is at most {_MAX_HASH} characters")
        return value


class MatchIn(ApiIn):
    hashes: Annotated[list[HashIn], Field(min_length=1, max_length=1000)]
    banks: Annotated[list[BankName], Field(max_length=100)] | None = None


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
    response=answers(dict[str, list[HitOut]], 404, 422),
    auth=requires(Permission.MATCHING_HASH_MATCH),
    summary="Match hashes (JSON) or media (multipart field `file`) against the banks",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": body_schema(MatchIn)},
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
    if (request.content_type or "").startswith("multipart/form-data"):
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
    # The same reader and the same answers as every other JSON body of the API.
    try:
        check_media_type(request.content_type, (request.content_params or {}).get("charset"))
        data = decode_json(request.body) if request.body else None
    except BodyRefused as exc:
        raise HttpError(exc.status, exc.message) from None
    try:
        body = MatchIn.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError([dict(e) for e in exc.errors(include_url=False)]) from None
    return _answer(request, _validated(body.hashes), body.banks)


class BankIn(ApiIn):
    name: BankName
    description: Annotated[str, Field(max_length=300), STORABLE] = ""
    verified: bool = False
    allow_list: bool = False
    thresholds: Annotated[
        dict[SignalName, Annotated[int, Field(ge=0, le=256)]], Field(max_length=4)
    ] = {}


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


@router.post(
    "/banks", response=answers({201: BankOut}, 422), auth=requires(Permission.MATCHING_BANK_MANAGE)
)
def bank_post(request: HttpRequest, payload: BankIn) -> Status[BankOut]:
    bank_create(
        name=payload.name,
        description=payload.description,
        verified=payload.verified,
        allow_list=payload.allow_list,
        thresholds=(
            {str(k): v for k, v in payload.thresholds.items()} if payload.thresholds else None
        ),
        actor=request.auth,  # type: ignore[attr-defined]
        source=AuditSource.API,
    )
    return Status(201, _bank_out(bank_get_for(user=request.auth, name=payload.name)))  # type: ignore[attr-defined]


class ImportIn(ApiIn):
    format: Choice[BankFormat]
    content: Annotated[str, Field(min_length=1, max_length=50_000_000), STORABLE]
    signal_type: SignalName | None = None
    provenance: Annotated[str, Field(max_length=500), STORABLE] = ""


class ImportOut(BaseModel):
    added: int
    already_present: int


@router.post(
    "/banks/{name}/import",
    response=answers(ImportOut, 422),
    auth=requires(Permission.MATCHING_BANK_MANAGE),
)
def bank_import_post(request: HttpRequest, name: Path[BankName], payload: ImportIn) -> ImportOut:
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


class ExportQuery(QueryIn):
    format: BankFormat = BankFormat.CSV


@router.get(
    "/banks/{name}/export",
    auth=requires(Permission.MATCHING_BANK_MANAGE),
    openapi_extra={
        "responses": {
            200: {
                "description": "The bank's enabled entries as CSV, or one hash a line (text)",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "text/plain": {"schema": {"type": "string"}},
                },
            }
        }
    },
)
def bank_export_get(
    request: HttpRequest, name: Path[BankName], query: Query[ExportQuery]
) -> HttpResponse:
    bank = bank_get_for(user=request.auth, name=name)  # type: ignore[attr-defined]
    kind = "text/csv" if query.format is BankFormat.CSV else "text/plain"
    return HttpResponse(
        bank_export(bank=bank, fmt=query.format), content_type=f"{kind}; charset=utf-8"
    )


class EnabledIn(ApiIn):
    enabled: bool
    reason: Annotated[str, Field(max_length=10_000), STORABLE] = ""


@router.post(
    "/banks/{name}/enabled", response=BankOut, auth=requires(Permission.MATCHING_BANK_MANAGE)
)
def bank_enabled(request: HttpRequest, name: Path[BankName], payload: EnabledIn) -> BankOut:
    bank = bank_get_for(user=request.auth, name=name)  # type: ignore[attr-defined]
    bank_set_enabled(bank=bank, enabled=payload.enabled, actor=request.auth, source=AuditSource.API)  # type: ignore[attr-defined]
    return _bank_out(bank_get_for(user=request.auth, name=name))  # type: ignore[attr-defined]


@router.post(
    "/banks/{name}/entries/{entry_id}/enabled",
    response=answers(BankOut, 422),
    auth=requires(Permission.MATCHING_BANK_MANAGE),
)
def entry_enabled(
    request: HttpRequest, name: Path[BankName], entry_id: Path[DbId], payload: EnabledIn
) -> BankOut:
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
