"""Fixtures for console tests: a case in the general queue holding an uploaded image."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from safeguard.cases.models import Case
from safeguard.config.demo import pattern_png
from tests.conftest import ApiClient, case_of, escalation_body
from tests.tasks import run_tasks

IMAGE = pattern_png("circles", 4)


@pytest.fixture
def case_with_image(service_api: ApiClient) -> dict[str, Any]:
    created = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            category="grooming",
            summary="A report.",
            subjects=[{"platform_id": "user:s1", "role": "suspect"}],
            content=[
                {"platform_id": "img:1", "kind": "image"},
                {
                    "platform_id": "t:1",
                    "kind": "message_thread",
                    "text": "hi! how old are you? dont tell your parents",
                },
            ],
        ),
    ).json()
    image_id = created["content"][0]["id"]
    service_api.upload(
        f"/api/v1/content/{image_id}/media",
        {"file": SimpleUploadedFile("x.png", IMAGE, content_type="image/png")},
    )
    run_tasks()  # the previews are rendered off the request path
    Case.objects.filter(pk=case_of(created).pk).update(queue="general")
    return {"case_id": str(case_of(created).pk), "image_id": image_id}


def _img_src(html: str, klass: str) -> str:
    match = re.search(rf'<img class="media {klass}"[^>]*src="([^"]+)"', html)
    assert match, f"no {klass} image on the page"
    return match.group(1).replace("&amp;", "&")


def img_src(html: str, klass: str) -> str:
    """The src of the page's first media image of the given class ("protected", "revealed")."""
    match = re.search(rf'<img class="media {klass}"[^>]*src="([^"]+)"', html)
    assert match, f"no {klass} image on the page"
    return match.group(1).replace("&amp;", "&")
