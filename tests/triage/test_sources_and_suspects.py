"""Source reliability floors, suspect-level risk and classifier results, through intake."""

from __future__ import annotations

from collections.abc import Callable

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditSource
from safeguard.intake.models import Escalation
from safeguard.triage.models import TriageRecord
from safeguard.triage.policy import compile_policy, default_policy_text
from safeguard.triage.services import policy_activate
from tests.conftest import ApiClient, case_of, escalation_body
from tests.factories import UserFactory

URL = "/api/v1/escalations"
ORDER = ["P0", "P1", "P2", "P3"]


def _grooming(external_id: str, **overrides: object) -> dict[str, object]:
    return escalation_body(
        external_id=external_id,
        subjects=[
            {"platform_id": f"user:s-{external_id}", "role": "suspect"},
            {"platform_id": f"user:v-{external_id}", "role": "victim", "age": 13},
        ],
        content=[
            {
                "platform_id": f"thread:{external_id}",
                "kind": "message_thread",
                "text": "you seem really mature for your age",
            }
        ],
        **overrides,
    )


def test_intake_records_the_source_and_triage_reads_it(
    api_for: Callable[[Role], ApiClient],
) -> None:
    service = api_for(Role.SERVICE)
    partner = api_for(Role.LE_PARTNER)
    le_block = {
        "agency": "Example Police",
        "country": "GB",
        "request_type": "preservation",
        "contact": "duty@example.police",
    }
    sent = {
        "anon": service.post(URL, _grooming("anon")).json(),
        "flagger": service.post(
            URL, _grooming("flagger", reporter={"kind": "trusted_flagger", "name": "Flag Org"})
        ).json(),
        "le-service": service.post(
            URL, _grooming("le-service", channel="law_enforcement", law_enforcement=le_block)
        ).json(),
        "le-partner": partner.post(
            URL, _grooming("le-partner", channel="law_enforcement", law_enforcement=le_block)
        ).json(),
    }
    kinds = {
        name: Escalation.objects.values_list("source_kind", "source_verified").get(pk=body["id"])
        for name, body in sent.items()
    }
    assert kinds == {
        "anon": ("anonymous", False),
        "flagger": ("trusted_flagger", True),
        "le-service": ("law_enforcement_unverified", False),
        "le-partner": ("law_enforcement", True),
    }
    anon, flagger = case_of(sent["anon"]), case_of(sent["flagger"])
    # The same report from a trusted flagger outranks the anonymous one.
    assert ORDER.index(flagger.priority) < ORDER.index(anon.priority)
    assert "trusted flagger" in flagger.explanation


def test_a_hotline_notice_of_confirmed_material_is_at_least_p1(service_api: ApiClient) -> None:
    body = service_api.post(
        URL,
        escalation_body(
            channel="hotline",
            category="csam",
            summary="Hotline notice: analysts assessed the linked image as child sexual abuse.",
            content=[{"platform_id": "img:h1", "kind": "image"}],
        ),
    ).json()
    case = case_of(body)
    assert case.priority in ("P0", "P1"), case.explanation
    assert "hotline" in case.explanation


def test_a_suspect_contacting_many_children_ranks_above_one_conversation(
    service_api: ApiClient,
) -> None:
    bodies = []
    for n in range(4):
        bodies.append(
            service_api.post(
                URL,
                escalation_body(
                    external_id=f"many-{n}",
                    summary="An adult account keeps asking children how old they are.",
                    subjects=[
                        {"platform_id": "user:serial", "role": "suspect"},
                        {"platform_id": f"user:child-{n}", "role": "victim", "age": 12 + n % 3},
                    ],
                    content=[
                        {
                            "platform_id": f"thread:many-{n}",
                            "kind": "message_thread",
                            "text": "how old are you? what grade are you in?",
                        }
                    ],
                ),
            ).json()
        )
    single = service_api.post(
        URL,
        escalation_body(
            external_id="single",
            subjects=[
                {"platform_id": "user:once", "role": "suspect"},
                {"platform_id": "user:child-x", "role": "victim", "age": 12},
            ],
        ),
    ).json()
    last = case_of(bodies[-1])
    assert ORDER.index(last.priority) < ORDER.index(case_of(single).priority)
    record = TriageRecord.objects.filter(case=last).order_by("computed_at").last()
    assert record is not None
    assert "suspect_many_children" in record.rules_matched
    # The latest result names all four children; the case took P1 at the third.
    assert "4 different children" in record.explanation
    assert "3 different children" in last.explanation


def test_classifier_scores_prioritise_and_an_ignored_model_counts_for_nothing(
    service_api: ApiClient,
) -> None:
    classifiers = [{"model": "vendor-x", "version": "3.1", "label": "self_harm", "score": 0.97}]
    scored = service_api.post(
        URL,
        escalation_body(external_id="c1", category="other", classifiers=classifiers, content=[]),
    ).json()
    assert case_of(scored).priority == "P1"

    source = (
        default_policy_text()
        .replace('version: "default-2"', 'version: "ignore-x"')
        .replace("  licences: {}", "  licences:\n    vendor-x: ignore")
    )
    assert compile_policy(source).ignored_models == ("vendor-x",)
    policy_activate(source_text=source, actor=UserFactory(role="admin"), source=AuditSource.CLI)
    ignored = service_api.post(
        URL,
        escalation_body(
            external_id="c2",
            category="other",
            classifiers=classifiers,
            subjects=[{"platform_id": "user:z", "role": "suspect"}],
            content=[],
        ),
    ).json()
    assert case_of(ignored).priority == "P3", case_of(ignored).explanation
