"""Evidence tasks: render a blob's previews once it is stored, off the request path; and the
daily retention job, which schedules its own next run."""

from __future__ import annotations

from django_tasks import task

from safeguard.evidence.rendering import blob_render


@task()
def blob_render_task(sha256: str) -> str:
    blob = blob_render(sha256=sha256)
    return f"{blob.render_state}{': ' + blob.render_error if blob.render_error else ''}"


@task()
def retention_daily_task(due: str) -> str:
    # Imported here: the retention module schedules this task, so it imports this module.
    from safeguard.evidence.retention import retention_scheduled_run

    return retention_scheduled_run(due=due)
