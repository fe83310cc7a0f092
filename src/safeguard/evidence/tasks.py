"""Evidence tasks: render a blob's previews once it is stored, off the request path."""

from __future__ import annotations

from django_tasks import task

from safeguard.evidence.rendering import blob_render


@task()
def blob_render_task(sha256: str) -> str:
    blob = blob_render(sha256=sha256)
    return f"{blob.render_state}{': ' + blob.render_error if blob.render_error else ''}"
