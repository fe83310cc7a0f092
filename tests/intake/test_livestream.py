"""Livestreams at intake: the stream's link and viewer, checked before anything is kept, and
the owner's later word (the stream ended) recorded on the item and audited."""

from __future__ import annotations

from typing import Any

import pytest

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.config import env
from safeguard.evidence.models import ContentItem
from safeguard.intake.schemas import EscalationIn
from safeguard.intake.services import payload_digest
from tests.audit_helpers import assert_audited, assert_not_audited
from tests.conftest import ApiClient, escalation_body

E = AuditEventType
URL = "/api/v1/escalations"
ORIGIN = "https://live.example"
STREAM = "https://platform.example/live/42"
VIEWER = f"{ORIGIN}/hls/42.webm"
LE_BLOCK = {
    "agency": "Example Police (fictional)",
    "country": "US",
    "request_type": "emergency_disclosure",
    "contact": "desk@police.example",
}


@pytest.fixture(autouse=True)
def _stream_origins(settings: Any) -> None:
    settings.SAFEGUARD_STREAM_ORIGINS = [ORIGIN]


def live(n: int = 1, **item: Any) -> dict[str, Any]:
    content = {"platform_id": "live:42", "kind": "livestream", "live": True, **item}
    return escalation_body(
        external_id=f"live-{n}",
        category="imminent_danger",
        summary="A viewer reports a child in distress on a livestream.",
        content=[content],
    )


def test_a_livestream_keeps_its_link_and_viewer(service_api: ApiClient) -> None:
    answer = service_api.post(URL, live(stream_url=STREAM, viewer_url=VIEWER))

    assert answer.status_code == 201, answer.content
    item = ContentItem.objects.get(platform_id="live:42")
    assert (item.stream_url, item.viewer_url, item.live, item.ended_at) == (
        STREAM,
        VIEWER,
        True,
        None,
    )


def test_the_owner_saying_the_stream_ended_updates_the_item_and_is_audited(
    service_api: ApiClient,
) -> None:
    service_api.post(URL, live(1, stream_url=STREAM, viewer_url=VIEWER))
    item = ContentItem.objects.get(platform_id="live:42")

    later = service_api.post(URL, live(2, live=False, ended_at="2026-11-30T03:40:00Z"))

    assert later.status_code == 201, later.content
    item.refresh_from_db()
    assert (item.live, item.ended_at.isoformat(), item.stream_url) == (
        False,
        "2026-11-30T03:40:00+00:00",
        STREAM,  # not sent again: left as it was
    )
    assert_audited(
        E.CONTENT_STREAM_UPDATED,
        target=item,
        actor=service_api.user,
        source=AuditSource.API,
        data={
            "escalation": later.json()["id"],
            "changes": {"live": [True, False], "ended_at": [None, "2026-11-30T03:40:00Z"]},
        },
    )
    # Saying the same again changes nothing and records no change.
    again = service_api.post(URL, live(3, live=False, ended_at="2026-11-30T03:40:00Z"))
    assert again.status_code == 201
    assert_not_audited(E.CONTENT_STREAM_UPDATED, data={"escalation": again.json()["id"]})


def test_another_source_naming_the_stream_does_not_change_it(
    service_api: ApiClient, api_for: Any
) -> None:
    service_api.post(URL, live(1, stream_url=STREAM))
    partner = api_for(Role.LE_PARTNER)
    item = ContentItem.objects.get(platform_id="live:42")
    body = live(2, live=False, ended_at="2026-11-30T03:40:00Z")
    body.update(channel="law_enforcement", law_enforcement=LE_BLOCK)

    # A law-enforcement partner references the platform's item; only its owner describes it.
    answer = partner.post(URL, body)

    assert answer.status_code == 201, answer.content
    item.refresh_from_db()
    assert (item.live, item.ended_at, item.stream_url) == (True, None, STREAM)
    assert_not_audited(E.CONTENT_STREAM_UPDATED, target=item)


@pytest.mark.parametrize(
    ("item", "field", "message"),
    [
        ({"stream_url": "http://platform.example/live/42"}, "stream_url", "must be an https://"),
        ({"stream_url": "https://"}, "stream_url", "must be an absolute URL"),
        ({"stream_url": "https://a b.example/"}, "stream_url", "whitespace"),
        ({"stream_url": "https://me:pw@platform.example/"}, "stream_url", "user name or password"),
        ({"stream_url": "https://platform.example:99999/"}, "stream_url", "port"),
        ({"stream_url": "https://x.example/" + "a" * 2000}, "stream_url", "at most 2000"),
        ({"stream_url": "https://x.example/\u202e"}, "stream_url", "U+202E"),
        ({"viewer_url": "javascript:alert(1)"}, "viewer_url", "must be an absolute URL"),
        ({"ended_at": "2026-11-30T03:40:00"}, "ended_at", "time zone offset"),
        (
            {"live": True, "ended_at": "2026-11-30T03:40:00Z"},
            "ended_at",
            "says the stream ended, but live is true",
        ),
    ],
)
def test_a_bad_stream_field_is_refused_precisely_and_nothing_is_kept(
    service_api: ApiClient,
    snapshot_counts: Any,
    item: dict[str, Any],
    field: str,
    message: str,
) -> None:
    before = snapshot_counts()

    answer = service_api.post(URL, live(**item))

    assert answer.status_code == 422, answer.content
    errors = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert message in errors[f"content.0.{field}"], errors
    assert snapshot_counts() == before


@pytest.mark.parametrize("field", ["stream_url", "viewer_url", "ended_at"])
def test_stream_fields_are_for_livestreams_only(
    service_api: ApiClient, snapshot_counts: Any, field: str
) -> None:
    value = "2026-11-30T03:40:00Z" if field == "ended_at" else VIEWER
    before = snapshot_counts()
    body = escalation_body(
        content=[{"platform_id": "img:1", "kind": "image", field: value}],
    )

    answer = service_api.post(URL, body)

    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {
            "field": f"content.0.{field}",
            "message": "is allowed only for kind 'livestream', not 'image'",
        }
    ]
    assert snapshot_counts() == before


def test_a_viewer_on_an_origin_not_listed_is_refused_naming_it(
    service_api: ApiClient, snapshot_counts: Any, settings: Any
) -> None:
    before = snapshot_counts()

    elsewhere = service_api.post(URL, live(viewer_url="https://cdn.elsewhere.example/42.webm"))
    settings.SAFEGUARD_STREAM_ORIGINS = []
    unconfigured = service_api.post(URL, live(2, viewer_url=VIEWER))

    assert elsewhere.status_code == 422
    assert elsewhere.json()["detail"] == (
        "content[0].viewer_url: https://cdn.elsewhere.example is not an origin the console "
        "plays streams from (SAFEGUARD_STREAM_ORIGINS: https://live.example); send stream_url "
        "alone"
    )
    assert unconfigured.status_code == 422
    assert "none are configured" in unconfigured.json()["detail"]
    assert snapshot_counts() == before


def test_escalations_without_stream_fields_keep_their_payload_and_digest() -> None:
    # Stored payloads (and the digest that tells an honest retry) are what they were before
    # the stream fields existed.
    body = escalation_body(content=[{"platform_id": "img:1", "kind": "image"}])
    payload = EscalationIn.model_validate(body)

    dumped = payload.model_dump(mode="json")

    assert dumped["content"] == [
        {"platform_id": "img:1", "kind": "image", "text": None, "live": False, "sha256": None}
    ]
    assert len(payload_digest(payload)) == 64


@pytest.mark.parametrize(
    ("raw", "mode", "expected"),
    [
        ("", env.Mode.PRODUCTION, []),
        (
            "HTTPS://Live.Example:443/, https://b.example:8443",
            env.Mode.PRODUCTION,
            ["https://live.example", "https://b.example:8443"],
        ),
        ("http://127.0.0.1:8081", env.Mode.TEST, ["http://127.0.0.1:8081"]),
    ],
)
def test_stream_origins_are_read_from_the_environment(
    raw: str, mode: env.Mode, expected: list[str]
) -> None:
    assert env.load_stream_origins({"SAFEGUARD_STREAM_ORIGINS": raw}, mode=mode) == expected


@pytest.mark.parametrize(
    ("raw", "mode", "message"),
    [
        ("https://live.example/path", env.Mode.TEST, "is not an origin"),
        ("live.example", env.Mode.TEST, "is not an origin"),
        ("http://live.example", env.Mode.PRODUCTION, "production plays streams over https only"),
        ("https://live.example:70000", env.Mode.TEST, "has no valid port"),
    ],
)
def test_a_stream_origin_that_is_not_one_stops_start_up(
    raw: str, mode: env.Mode, message: str
) -> None:
    with pytest.raises(env.ConfigurationError, match=message):
        env.load_stream_origins({"SAFEGUARD_STREAM_ORIGINS": raw}, mode=mode)
