"""Documents kept as versioned data (the triage policy, the playbooks): one row per version,
whose text never changes once uploaded, and exactly one active (the triage policy keeps its own
lifecycle of statuses, triage/lifecycle.py, on the same rows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone


def version_get_or_create(
    model: Any,
    *,
    version: str,
    source_text: str,
    uploaded_by: Any,
    conflict: Callable[[str], Exception],
    what: str,
    **fields: Any,
) -> tuple[Any, bool]:
    """The row of `version` in `model` (locked), and whether it was created now, with `fields`.
    A version uploaded before with another text raises `conflict`: a version names one text for
    ever. Runs in the caller's transaction."""
    existing = model.objects.select_for_update().filter(version=version).first()
    if existing is not None:
        if existing.source != source_text:
            raise conflict(
                f"version {version!r} already exists with different {what}; give it a new version"
            )
        return existing, False
    created = model.objects.create(
        version=version,
        source=source_text,
        uploaded_by=uploaded_by,
        uploaded_at=timezone.now(),
        **fields,
    )
    return created, True


def version_activate(
    model: Any,
    *,
    version: str,
    source_text: str,
    uploaded_by: Any,
    conflict: Callable[[str], Exception],
    what: str,
) -> Any:
    """Make `version` the active row of `model` (fields version, source, active, uploaded_by,
    uploaded_at), creating it on its first upload (see `version_get_or_create`)."""
    row, _ = version_get_or_create(
        model,
        version=version,
        source_text=source_text,
        uploaded_by=uploaded_by,
        conflict=conflict,
        what=what,
    )
    model.objects.filter(active=True).exclude(pk=row.pk).update(active=False)
    if not row.active:
        row.active = True
        row.save(update_fields=["active"])
    return row


def version_described(
    record: Any, *, built_in_version: str, built_in_source: str
) -> dict[str, Any]:
    """The document in force as the API shows it: the active row, or (with none) the built-in
    text shipped with Safeguard."""
    if record is None:
        return {
            "version": built_in_version,
            "source": built_in_source,
            "built_in": True,
            "uploaded_by": None,
            "uploaded_at": None,
        }
    return {
        "version": record.version,
        "source": record.source,
        "built_in": False,
        "uploaded_by": record.uploaded_by.username if record.uploaded_by else None,
        "uploaded_at": record.uploaded_at,
    }
