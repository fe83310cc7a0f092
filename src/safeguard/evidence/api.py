"""Evidence endpoints: upload a content item's media bytes into the vault."""

import uuid
from typing import BinaryIO, cast

from django.conf import settings
from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status
from pydantic import BaseModel

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.core.errors import Invalid
from safeguard.core.openapi import answers, file_upload
from safeguard.evidence.selectors import content_get_for_upload
from safeguard.evidence.services import content_media_store
from safeguard.evidence.vault import TooLarge, is_sha256

router = Router(tags=["evidence"])

# Room for the multipart envelope around the file when judging Content-Length up front.
_MULTIPART_OVERHEAD = 64 * 1024


class MediaOut(BaseModel):
    content_id: uuid.UUID
    sha256: str
    size: int
    stored: bool


class UploadRefused(Invalid):
    pass


_UPLOAD_SCHEMA = file_upload(
    sha256={
        "type": "string",
        "description": "optional lowercase hex SHA-256 the bytes must match",
    }
)


@router.post(
    "/content/{content_id}/media",
    response=answers({200: MediaOut, 201: MediaOut}, 409, 422),
    auth=requires(Permission.EVIDENCE_MEDIA_UPLOAD),
    openapi_extra=_UPLOAD_SCHEMA,
    summary="Upload media bytes (multipart field `file`) for a content item",
)
def content_media_upload(request: HttpRequest, content_id: uuid.UUID) -> Status[MediaOut]:
    content = content_get_for_upload(user=request.auth, content_id=content_id)  # type: ignore[attr-defined]
    limit = settings.SAFEGUARD_MAX_MEDIA_BYTES
    # Refuse by the declared length before reading a byte of an oversized body.
    declared_length = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared_length > limit + _MULTIPART_OVERHEAD:
        raise TooLarge(limit)
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise UploadRefused("send the media as multipart/form-data with the bytes in field 'file'")
    upload = request.FILES.get("file")
    if upload is None:
        raise UploadRefused("multipart field 'file' is missing")
    if upload.size is not None and upload.size > limit:
        raise TooLarge(limit)
    declared = (request.POST.get("sha256") or "").strip().lower() or None
    if declared is not None and not is_sha256(declared):
        raise UploadRefused("field 'sha256' must be 64 hexadecimal characters")
    result = content_media_store(
        content=content,
        # Django's UploadedFile is a binary file object (read, seek), which is all the vault uses.
        upload=cast(BinaryIO, upload),
        declared_type=upload.content_type or "",
        actor=request.auth,  # type: ignore[attr-defined]
        source=AuditSource.API,
        declared_sha256=declared,
    )
    status = 201 if result.created else 200
    return Status(
        status,
        MediaOut(
            content_id=result.content.pk,
            sha256=result.blob.sha256,
            size=result.blob.size,
            stored=result.created,
        ),
    )
