"""The intake contract: the JSON an escalation is sent as, validated field by field."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
)

from safeguard.core.fields import IDENTIFIER, STORABLE, ApiIn, Choice, Timestamp
from safeguard.intake.enums import (
    Category,
    Channel,
    ContentKind,
    LERequestType,
    ReporterKind,
    SubjectRole,
)

_SHA256 = re.compile(r"[0-9a-f]{64}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")

# Identifiers name things (accounts, content, agencies): no control, format or bidi characters.
PlatformId = Annotated[str, Field(min_length=1, max_length=200), IDENTIFIER]
# Free text is evidence and is kept exactly as sent; only NUL, which cannot be stored, is refused.
SummaryText = Annotated[str, Field(max_length=20_000), STORABLE]
ContentText = Annotated[str, Field(max_length=100_000), STORABLE]


def _stream_url(value: str) -> str:
    """An absolute http(s) URL naming a host, with no credentials and no whitespace."""
    if any(ch.isspace() for ch in value):
        raise ValueError("must not contain spaces or other whitespace")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute URL such as https://live.example/streams/1")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password")
    try:
        parts.port  # noqa: B018 - reading it is the check
    except ValueError:
        raise ValueError("has a port that is not a number from 0 to 65535") from None
    return value


# A link a platform gives to a stream: checked before it is stored or shown as a link.
StreamUrl = Annotated[
    str, Field(min_length=1, max_length=2000), IDENTIFIER, AfterValidator(_stream_url)
]


def _iso_country(value: str) -> str:
    if not _COUNTRY.fullmatch(value):
        raise ValueError("must be an ISO-3166 alpha-2 code such as 'GB' or 'US'")
    return value.upper()


CountryCode = Annotated[
    str,
    Field(max_length=2, description="ISO-3166 alpha-2, e.g. GB"),
    AfterValidator(_iso_country),
]


class _Strict(ApiIn):
    # Strict types and unknown fields refused (ApiIn), so a caller's typo or a number sent as a
    # string is never silently reinterpreted; surrounding whitespace carries no meaning.
    model_config = ConfigDict(str_strip_whitespace=True)


class SubjectIn(_Strict):
    platform_id: PlatformId
    role: Choice[SubjectRole]
    age: Annotated[int, Field(ge=0, le=130)] | None = None
    country: CountryCode | None = None


MessageText = Annotated[str, Field(max_length=20_000), STORABLE]
# Model names and versions are the platform's; labels become keys in the triage context.
ClassifierLabel = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


class MessageIn(_Strict):
    """One message of a thread: its own time, so "tonight" is read against the day it was sent."""

    sent_at: Timestamp = Field(description="ISO-8601 with a time zone offset")
    author: PlatformId | None = Field(default=None, description="the sender's platform id")
    text: MessageText


class ContentIn(_Strict):
    platform_id: PlatformId
    kind: Choice[ContentKind]
    text: ContentText | None = None
    messages: Annotated[list[MessageIn], Field(max_length=2000)] | None = Field(
        default=None,
        description="message_thread only: the messages in the order sent, each with its time",
    )
    live: bool = False
    sha256: Annotated[str, Field(max_length=64)] | None = Field(
        default=None, description="lowercase hex SHA-256 of the media bytes"
    )
    # A livestream's links and its end, from its platform (kind "livestream" only). Each is left
    # out of the stored payload when not sent, so escalations sent before they existed keep
    # their digest (an honest retry is still recognised).
    stream_url: StreamUrl | None = Field(
        default=None, description="livestream only: the stream's page on the platform (https)"
    )
    viewer_url: StreamUrl | None = Field(
        default=None,
        description="livestream only: a direct video stream the console may play, on an origin "
        "listed in SAFEGUARD_STREAM_ORIGINS",
    )
    ended_at: Timestamp | None = Field(
        default=None, description="livestream only: when the stream ended (then not live)"
    )

    @field_validator("messages")
    @classmethod
    def _thread_only(
        cls, value: list[MessageIn] | None, info: ValidationInfo
    ) -> list[MessageIn] | None:
        kind = info.data.get("kind")
        if value is not None and kind is not None and kind is not ContentKind.MESSAGE_THREAD:
            raise ValueError(f"is allowed only for kind 'message_thread', not {kind.value!r}")
        return value

    @field_validator("stream_url", "viewer_url", "ended_at")
    @classmethod
    def _livestream_only(cls, value: object, info: ValidationInfo) -> object:
        kind = info.data.get("kind")
        if value is not None and kind is not None and kind is not ContentKind.LIVESTREAM:
            raise ValueError(f"is allowed only for kind 'livestream', not {kind.value!r}")
        return value

    @field_validator("stream_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("ended_at")
    @classmethod
    def _ended(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is not None and info.data.get("live") is True:
            raise ValueError("says the stream ended, but live is true: send live false with it")
        return value

    @model_serializer(mode="wrap")
    def _omit_unsent_stream(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in (*STREAM_FIELDS, "messages"):
            if data.get(name) is None:
                data.pop(name, None)
        return data

    @field_validator("sha256")
    @classmethod
    def _sha256(cls, value: str | None) -> str | None:
        if value is None:
            return None
        lower = value.lower()
        if not _SHA256.fullmatch(lower):
            raise ValueError("must be 64 hexadecimal characters (SHA-256)")
        return lower


STREAM_FIELDS = ("stream_url", "viewer_url", "ended_at")


LegalTypeKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
FieldName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
FieldText = Annotated[str, Field(max_length=5000), STORABLE]


class LawEnforcementIn(_Strict):
    agency: Annotated[str, Field(min_length=1, max_length=300), IDENTIFIER]
    country: CountryCode
    request_type: Choice[LERequestType]
    contact: Annotated[str, Field(min_length=1, max_length=300), IDENTIFIER]
    # The instrument exactly (docs/law-enforcement-clocks.md lists the keys), its own fields,
    # and a non-disclosure order; checked by the law-enforcement app in intake's transaction.
    legal_type: LegalTypeKey | None = Field(
        default=None,
        description="the request type key, e.g. eu_production_order; without it an emergency "
        "or preservation request takes the default for its country, and legal process waits "
        "for legal staff to classify it",
    )
    fields: Annotated[dict[FieldName, FieldText], Field(max_length=20)] = Field(
        default_factory=dict, description="the request type's own fields (danger, offence, ...)"
    )
    non_disclosure: bool = Field(
        default=False, description="a non-disclosure order: the account holders must not be told"
    )
    non_disclosure_until: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = Field(
        default=None, description="the last day the order runs (YYYY-MM-DD); none: until lifted"
    )


class ClassifierIn(_Strict):
    """One result of the platform's own classifier. Triage may use it to prioritise, never to
    act: no automated action follows from a score (docs/triage-policy.md)."""

    model: Annotated[str, Field(min_length=1, max_length=100), IDENTIFIER]
    version: Annotated[str, Field(min_length=1, max_length=100), IDENTIFIER]
    label: ClassifierLabel
    score: Annotated[float, Field(ge=0.0, le=1.0)]


class ReporterIn(_Strict):
    """Who filed a user report, as the platform knows them."""

    kind: Choice[ReporterKind]
    name: Annotated[str, Field(min_length=1, max_length=300), IDENTIFIER] | None = Field(
        default=None, description="a trusted flagger's registered name"
    )


OPTIONAL_ESCALATION_FIELDS = ("classifiers", "reporter")


class EscalationIn(_Strict):
    channel: Choice[Channel]
    external_id: Annotated[str, Field(min_length=1, max_length=200), IDENTIFIER]
    category: Choice[Category]
    summary: SummaryText
    occurred_at: Timestamp | None = Field(
        default=None, description="ISO-8601 with a time zone offset, from 1970 to a day from now"
    )
    subjects: Annotated[list[SubjectIn], Field(max_length=100)] = []
    content: Annotated[list[ContentIn], Field(max_length=500)] = []
    # Validated even when absent, so a law-enforcement escalation without its block is refused.
    law_enforcement: LawEnforcementIn | None = Field(default=None, validate_default=True)
    # Left out of the stored payload when not sent, so earlier escalations keep their digest.
    classifiers: Annotated[list[ClassifierIn], Field(max_length=100)] | None = None
    reporter: ReporterIn | None = Field(
        default=None, description="user reports only: who filed it (anonymous, user, flagger)"
    )

    @model_serializer(mode="wrap")
    def _omit_unsent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in OPTIONAL_ESCALATION_FIELDS:
            if data.get(name) is None:
                data.pop(name, None)
        return data

    @field_validator("reporter")
    @classmethod
    def _reporter(cls, value: ReporterIn | None, info: ValidationInfo) -> ReporterIn | None:
        channel = info.data.get("channel")
        if value is not None and channel is not None and channel is not Channel.USER_REPORT:
            raise ValueError("is allowed only when channel is 'user_report'")
        return value

    @field_validator("content")
    @classmethod
    def _unique_content(cls, value: list[ContentIn]) -> list[ContentIn]:
        ids = [c.platform_id for c in value]
        if len(ids) != len(set(ids)):
            raise ValueError("lists the same platform_id more than once")
        return value

    @field_validator("subjects")
    @classmethod
    def _unique_subjects(cls, value: list[SubjectIn]) -> list[SubjectIn]:
        pairs = [(s.platform_id, s.role) for s in value]
        if len(pairs) != len(set(pairs)):
            raise ValueError("lists the same platform_id with the same role twice")
        return value

    @field_validator("law_enforcement")
    @classmethod
    def _law_enforcement(
        cls, value: LawEnforcementIn | None, info: ValidationInfo
    ) -> LawEnforcementIn | None:
        channel = info.data.get("channel")
        if channel is Channel.LAW_ENFORCEMENT and value is None:
            raise ValueError("is required when channel is 'law_enforcement'")
        if channel is not None and channel is not Channel.LAW_ENFORCEMENT and value is not None:
            raise ValueError("is allowed only when channel is 'law_enforcement'")
        return value


class ContentRef(BaseModel):
    """One of the caller's own platform's items, with the id to upload its media to."""

    id: uuid.UUID
    platform_id: str
    has_media: bool


class EscalationOut(BaseModel):
    """What the caller who filed an escalation learns: its own escalation, nothing of the case
    it joined (callers who file do not read cases; the team's triage is not theirs to see)."""

    id: uuid.UUID
    status: Literal["accepted", "already_accepted"] = Field(
        description="accepted now (201), or the same request was accepted before (200)"
    )
    content: list[ContentRef] = Field(
        description="the items of the caller's own platform this escalation names"
    )


class SubjectOut(BaseModel):
    platform_id: str
    role: SubjectRole
    age: int | None
    country: str | None


class MatchOut(BaseModel):
    """A hash match on the content, shown without anyone viewing the media."""

    bank: str
    entry_id: int
    signal_type: str
    distance: int
    verified: bool
    low_confidence: bool
    allow_listed: bool


class ClaimOut(BaseModel):
    """Another source's description of the item that differs from, or adds to, its owner's."""

    caller: str
    kind: ContentKind
    sha256: str | None
    differs: list[str] = Field(description="what differed from the owner's description then")
    recorded_at: datetime


class ContentOut(BaseModel):
    id: uuid.UUID
    platform_id: str
    kind: ContentKind
    text: str
    live: bool
    stream_url: str | None = Field(default=None, description="livestream: its page on the platform")
    viewer_url: str | None = Field(default=None, description="livestream: a direct video stream")
    ended_at: datetime | None = Field(default=None, description="livestream: when it ended")
    sha256: str | None = Field(description="of the stored media, else the declared hash")
    has_media: bool
    detected: str | None = Field(
        default=None,
        description="what the stored bytes are, read from them (never the uploader's type)",
    )
    renderable: bool = Field(
        default=False,
        description="the bytes are an image or video of the item's kind; else opaque evidence",
    )
    matches: list[MatchOut] = []
    claims: list[ClaimOut] = []


class LawEnforcementOut(BaseModel):
    """The law-enforcement block exactly as it was accepted (rules for new input may have grown
    stricter since; what was stored is shown as stored)."""

    agency: str
    country: str
    request_type: LERequestType
    contact: str


class EscalationDetail(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    channel: Channel
    external_id: str
    caller: str
    category: Category
    summary: str
    occurred_at: datetime | None
    received_at: datetime
    subjects: list[SubjectOut]
    content: list[ContentOut]
    law_enforcement: LawEnforcementOut | None
