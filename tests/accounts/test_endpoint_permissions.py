"""Every API endpoint by every role: deny by default, allow exactly the roles the table names."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from safeguard.accounts.auth import TokenAuth, required_permissions
from safeguard.accounts.permissions import ROLE_PERMISSIONS, Role
from safeguard.config.api import api

R = Role
EVERYONE = frozenset(Role)

# The intended access, written out by hand: changing a role's permissions or an endpoint's
# requirement must change this table too, on purpose.
EXPECTED: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/escalations"): frozenset({R.SERVICE, R.LE_PARTNER}),
    ("GET", "/escalations/{escalation_id}"): frozenset({R.SPECIALIST, R.LEAD, R.LEGAL, R.AUDITOR}),
    ("POST", "/content/{content_id}/media"): frozenset({R.SERVICE}),
    ("GET", "/cases/{case_id}"): frozenset({R.SPECIALIST, R.LEAD, R.LEGAL, R.AUDITOR}),
    ("GET", "/cases"): frozenset({R.SPECIALIST, R.LEAD, R.LEGAL, R.AUDITOR}),
    ("GET", "/audit/events"): frozenset({R.AUDITOR}),
    ("GET", "/audit/verify"): frozenset({R.AUDITOR, R.ADMIN}),
    ("GET", "/audit/events/{event_id}/proof"): frozenset({R.AUDITOR}),
    ("GET", "/audit/checkpoint"): frozenset({R.AUDITOR, R.ADMIN}),
    ("GET", "/me"): EVERYONE,
    ("GET", "/queues"): frozenset({R.SPECIALIST, R.LEAD}),
    ("PUT", "/queues/{name}"): frozenset({R.ADMIN}),
    ("POST", "/queues/{name}/next"): frozenset({R.SPECIALIST, R.LEAD}),
    ("POST", "/cases/{case_id}/claim/renew"): frozenset({R.SPECIALIST, R.LEAD}),
    ("POST", "/cases/{case_id}/claim/release"): frozenset({R.SPECIALIST, R.LEAD}),
    ("POST", "/cases/{case_id}/reassign"): frozenset({R.LEAD}),
    ("POST", "/cases/{case_id}/priority"): frozenset({R.LEAD}),
    ("GET", "/triage/policy"): frozenset({R.SPECIALIST, R.LEAD, R.ADMIN}),
    ("PUT", "/triage/policy"): frozenset({R.ADMIN}),
    ("POST", "/triage/policies/{version}/shadow"): frozenset({R.ADMIN}),
    ("POST", "/triage/policies/{version}/promote"): frozenset({R.ADMIN}),
    ("POST", "/triage/explain"): frozenset({R.SPECIALIST, R.LEAD, R.ADMIN}),
    ("GET", "/pages"): frozenset({R.SPECIALIST, R.LEAD}),
    ("POST", "/pages/{page_id}/ack"): frozenset({R.SPECIALIST, R.LEAD}),
    ("POST", "/match"): frozenset({R.SERVICE, R.SPECIALIST, R.LEAD}),
    ("GET", "/banks"): frozenset({R.ADMIN}),
    ("POST", "/banks"): frozenset({R.ADMIN}),
    ("POST", "/banks/{name}/import"): frozenset({R.ADMIN}),
    ("GET", "/banks/{name}/export"): frozenset({R.ADMIN}),
    ("POST", "/banks/{name}/enabled"): frozenset({R.ADMIN}),
    ("POST", "/banks/{name}/entries/{entry_id}/enabled"): frozenset({R.ADMIN}),
    ("POST", "/cases/{case_id}/decision"): frozenset({R.SPECIALIST, R.LEAD}),
    ("POST", "/cases/{case_id}/escalate"): frozenset({R.SPECIALIST, R.LEAD}),
    ("POST", "/actions/{action_id}/confirm"): frozenset({R.SERVICE}),
    ("POST", "/actions/{action_id}/reverse"): frozenset({R.LEAD}),
    ("GET", "/grants"): frozenset({R.LEAD, R.AUDITOR}),
    ("POST", "/grants"): frozenset({R.LEAD}),
    ("POST", "/grants/{grant_id}/revoke"): frozenset({R.LEAD}),
    ("GET", "/cases/{case_id}/playbook"): frozenset({R.SPECIALIST, R.LEAD, R.LEGAL, R.AUDITOR}),
    ("POST", "/cases/{case_id}/playbook/{step_id}/tick"): frozenset({R.SPECIALIST, R.LEAD}),
    ("POST", "/cases/{case_id}/close"): frozenset({R.SPECIALIST, R.LEAD}),
    ("GET", "/playbooks"): frozenset({R.SPECIALIST, R.LEAD, R.LEGAL, R.AUDITOR, R.ADMIN}),
    ("POST", "/playbooks"): frozenset({R.ADMIN}),
    ("GET", "/search"): frozenset({R.SPECIALIST, R.LEAD, R.LEGAL, R.AUDITOR}),
    ("POST", "/cases/bulk"): frozenset({R.LEAD}),
    # Legal holds, deletion and destruction (evidence/holds.py, evidence/deletion.py).
    ("GET", "/holds"): frozenset({R.AUDITOR, R.LEAD, R.LEGAL}),
    ("POST", "/holds"): frozenset({R.LEGAL}),
    ("GET", "/holds/{hold_id}"): frozenset({R.AUDITOR, R.LEAD, R.LEGAL}),
    ("POST", "/holds/{hold_id}/extend"): frozenset({R.LEGAL}),
    ("POST", "/holds/{hold_id}/release"): frozenset({R.LEGAL}),
    ("GET", "/content/{content_id}/holds"): frozenset({R.AUDITOR, R.LEAD, R.LEGAL}),
    ("POST", "/content/{content_id}/deletion"): frozenset({R.LEGAL}),
    ("GET", "/destructions"): frozenset({R.LEGAL}),
    ("POST", "/destructions"): frozenset({R.LEGAL}),
    ("POST", "/destructions/{destruction_id}/approve"): frozenset({R.LEGAL}),
    # Law enforcement: partners follow their own agency's requests; legal staff run them.
    ("GET", "/le/request-types"): frozenset({R.LEAD, R.LEGAL, R.LE_PARTNER}),
    ("GET", "/le/requests"): frozenset({R.LEAD, R.LEGAL, R.LE_PARTNER}),
    ("GET", "/le/requests/{request_id}"): frozenset({R.LEAD, R.LEGAL, R.LE_PARTNER}),
    ("POST", "/le/requests/{request_id}/documents"): frozenset({R.LEGAL, R.LE_PARTNER}),
    ("POST", "/le/requests/{request_id}/transitions"): frozenset({R.LEGAL}),
    ("POST", "/le/requests/{request_id}/classification"): frozenset({R.LEGAL}),
    ("POST", "/le/requests/{request_id}/emergency-determination"): frozenset({R.LEGAL}),
    ("POST", "/le/requests/{request_id}/preservation-extension"): frozenset({R.LEGAL}),
    ("POST", "/le/agencies"): frozenset({R.LEGAL}),
    ("POST", "/le/agencies/{agency_id}/verifications"): frozenset({R.LEGAL}),
    ("POST", "/le/agencies/{agency_id}/partners"): frozenset({R.LEGAL}),
    ("POST", "/le/requests/{request_id}/disclosures"): frozenset({R.LEGAL}),
    ("POST", "/le/disclosures/{disclosure_id}/approval"): frozenset({R.LEGAL}),
    ("POST", "/le/disclosures/{disclosure_id}/release"): frozenset({R.LEGAL}),
    ("POST", "/le/disclosures/download"): frozenset({R.LE_PARTNER}),
    ("GET", "/le/directory"): frozenset({R.SPECIALIST, R.LEAD, R.LEGAL}),
    ("POST", "/cases/{case_id}/referrals"): frozenset({R.SPECIALIST, R.LEAD}),
    ("GET", "/cases/{case_id}/referrals"): frozenset({R.SPECIALIST, R.LEAD}),
    ("POST", "/le/referrals/{referral_id}/acknowledgement"): frozenset({R.SPECIALIST, R.LEAD}),
}


def operations() -> list[tuple[str, str, Any]]:
    found = []
    for _prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    found.append((method, path, operation))
    return found


def allowed_roles(operation: Any) -> frozenset[Role]:
    permissions, any_user = required_permissions(operation.auth_callbacks)
    if any_user:
        return EVERYONE
    return frozenset(r for r, held in ROLE_PERMISSIONS.items() if held & permissions)


def test_the_table_lists_every_endpoint_and_each_matches_its_declaration() -> None:
    declared = {(m, p): allowed_roles(op) for m, p, op in operations()}
    assert declared == EXPECTED


def test_every_endpoint_authenticates_with_our_permission_checks() -> None:
    for method, path, operation in operations():
        kinds = {type(c) for c in operation.auth_callbacks}
        assert TokenAuth in kinds, (method, path)


def test_an_endpoint_that_declares_nothing_is_refused_to_everyone() -> None:
    default_permissions, any_user = required_permissions(api.auth)  # type: ignore[arg-type]
    assert default_permissions == frozenset()
    assert any_user is False


def _url(path: str) -> str:
    path = path.replace("{entry_id}", "1")
    return "/api/v1" + re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)


CASES = [(m, p, role) for (m, p) in EXPECTED for role in [*Role, None]]


@pytest.mark.parametrize(("method", "path", "role"), CASES)
def test_endpoint_by_role(api_for: Any, method: str, path: str, role: Role | None) -> None:
    client = api_for(role) if role is not None else None
    headers = {"Authorization": f"Bearer {client.token}"} if client else {}
    response = Client().generic(
        method, _url(path), data="{}", content_type="application/json", headers=headers
    )

    if role is None:
        assert response.status_code == 401
    elif role in EXPECTED[(method, path)]:
        # Allowed: whatever the placeholder ids and body lead to, it is not an auth refusal.
        assert response.status_code not in (401, 403), response.content
    else:
        assert response.status_code == 403, response.content


# --- Real cases in queues the caller may and may not work ----------------------------------
#
# The table above says which roles reach an operation at all; this part says which cases they
# reach through it. A case in a queue a role may not work is indistinguishable from a missing
# one (404, the same message) for every operation that reads or acts on a case, in the API and
# in the console, and trying changes nothing.

QUEUES = ("general", "le-requests")

# Written by hand from the default queues (cases/migrations/0004_default_queues.py): general is
# specialist + lead, le-requests legal + lead; auditors see nothing without a read grant.
SEES: dict[Role, frozenset[str]] = {
    R.SPECIALIST: frozenset({"general"}),
    R.LEAD: frozenset({"general", "le-requests"}),
    R.LEGAL: frozenset({"le-requests"}),
    R.AUDITOR: frozenset(),
    R.ADMIN: frozenset(),
    R.SERVICE: frozenset(),
    R.LE_PARTNER: frozenset(),
}
# Who may see protected media at all (evidence:media:view).
MEDIA = frozenset({R.SPECIALIST, R.LEAD})
CONSOLE = (R.SPECIALIST, R.LEAD, R.LEGAL, R.AUDITOR, R.ADMIN)

# (what, method, URL, body, the table's key, the answer when the case is visible). The bodies
# are valid, so a refusal can only come from the access check or from the case's own state.
API_OPERATIONS: list[tuple[str, str, str, Any, tuple[str, str], int]] = [
    ("read case", "GET", "/api/v1/cases/{case}", None, ("GET", "/cases/{case_id}"), 200),
    (
        "read escalation",
        "GET",
        "/api/v1/escalations/{escalation}",
        None,
        ("GET", "/escalations/{escalation_id}"),
        200,
    ),
    (
        "renew claim",
        "POST",
        "/api/v1/cases/{case}/claim/renew",
        {},
        ("POST", "/cases/{case_id}/claim/renew"),
        409,
    ),
    (
        "release claim",
        "POST",
        "/api/v1/cases/{case}/claim/release",
        {},
        ("POST", "/cases/{case_id}/claim/release"),
        409,
    ),
    (
        "decide",
        "POST",
        "/api/v1/cases/{case}/decision",
        {"labels": ["grooming"], "reason": "x"},
        ("POST", "/cases/{case_id}/decision"),
        422,
    ),
    (
        "escalate",
        "POST",
        "/api/v1/cases/{case}/escalate",
        {"note": "x"},
        ("POST", "/cases/{case_id}/escalate"),
        422,
    ),
    (
        "reassign",
        "POST",
        "/api/v1/cases/{case}/reassign",
        {"to_queue": "no-such-queue", "reason": "x"},
        ("POST", "/cases/{case_id}/reassign"),
        422,
    ),
    (
        "reprioritise",
        "POST",
        "/api/v1/cases/{case}/priority",
        {"priority": "P3", "reason": "x"},
        ("POST", "/cases/{case_id}/priority"),
        200,
    ),
    (
        "reverse action",
        "POST",
        "/api/v1/actions/{action}/reverse",
        {"reason": "x"},
        ("POST", "/actions/{action_id}/reverse"),
        422,  # visible, but only a confirmed action can be reversed
    ),
    (
        "read playbook",
        "GET",
        "/api/v1/cases/{case}/playbook",
        None,
        ("GET", "/cases/{case_id}/playbook"),
        200,
    ),
    (
        "tick playbook step",
        "POST",
        "/api/v1/cases/{case}/playbook/check-category/tick",
        {"note": "x"},
        ("POST", "/cases/{case_id}/playbook/{step_id}/tick"),
        200,
    ),
    (
        "close",
        "POST",
        "/api/v1/cases/{case}/close",
        {},
        ("POST", "/cases/{case_id}/close"),
        409,  # visible, but a triaged case cannot be closed
    ),
]

CONSOLE_OPERATIONS: list[tuple[str, str, str, Any, bool, int | dict[Role, int]]] = [
    # (what, method, URL, form, needs media permission, the answer when visible: one for every
    # role, or per role). A refused form answers with the case page and what was entered: 409
    # when the person holds no claim, 403 when their role may not do it.
    ("case page", "GET", "/console/cases/{case}/", None, False, 200),
    ("case live status", "GET", "/console/live/cases/{case}", None, False, 200),
    ("media preview", "GET", "{media}", None, True, 200),
    ("reveal", "POST", "/console/cases/{case}/reveal/{content}", {}, True, 302),
    (
        "decide",
        "POST",
        "/console/cases/{case}/decide",
        {"labels": "grooming", "reason": "x"},
        False,
        409,  # nobody here holds the case's claim
    ),
    ("escalate", "POST", "/console/cases/{case}/escalate", {"note": "x"}, False, 409),
    (
        "note",
        "POST",
        "/console/cases/{case}/notes",
        {"text": "a note"},
        False,
        {R.SPECIALIST: 302, R.LEAD: 302, R.LEGAL: 403},
    ),
    (
        "tick playbook step",
        "POST",
        "/console/cases/{case}/playbook/check-category/tick",
        {"note": "x"},
        False,
        302,
    ),
    ("close", "POST", "/console/cases/{case}/close", {}, False, 302),
    (
        "reverse",
        "POST",
        "/console/cases/{case}/actions/{action}/reverse",
        {"reason": "x"},
        False,
        302,
    ),
    # Last: once claimed, the case would be held for the operations above. A role that may not
    # review, or a queue one does not work, is told so on the case page.
    ("claim this case", "POST", "/console/cases/{case}/claim", {}, False, 302),
]


@pytest.fixture
def world(service_api: Any, settings: Any) -> dict[str, dict[str, str]]:
    """One case in each queue, each with an uploaded image and an action awaiting confirmation."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from safeguard.cases.models import Case
    from safeguard.config.demo import pattern_png
    from tests.conftest import case_of, escalation_body
    from tests.factories import ActionFactory, UserFactory
    from tests.tasks import run_tasks

    requester = UserFactory(role=R.LEAD.value)
    found = {}
    for n, queue in enumerate(QUEUES):
        created = service_api.post(
            "/api/v1/escalations",
            escalation_body(
                external_id=f"world-{n}",
                category="other",
                summary="A report.",
                subjects=[{"platform_id": f"user:world{n}", "role": "suspect"}],
                content=[{"platform_id": f"img:world{n}", "kind": "image"}],
            ),
        )
        assert created.status_code == 201, created.content
        body = created.json()
        content_id = body["content"][0]["id"]
        uploaded = service_api.upload(
            f"/api/v1/content/{content_id}/media",
            {"file": SimpleUploadedFile("x.png", pattern_png("circles", 3 + n))},
        )
        assert uploaded.status_code in (200, 201), uploaded.content
        Case.objects.filter(pk=case_of(body).pk).update(queue=queue)
        action = ActionFactory(
            case=case_of(body), target_id=f"user:world{n}", status="sent", requested_by=requester
        )
        found[queue] = {
            "case": str(case_of(body).pk),
            "escalation": body["id"],
            "content": content_id,
            "action": str(action.pk),
        }
    run_tasks()  # the previews are rendered off the request path
    return found


def _state_of(case_id: str) -> tuple[Any, ...]:
    """Everything an operation on the case could change, to prove a refusal changed nothing."""
    from safeguard.audit.models import AuditEvent
    from safeguard.cases.models import Case, CaseNote, Decision

    case = Case.objects.get(pk=case_id)
    return (
        case.state,
        case.priority,
        case.queue,
        case.holder_id,
        case.lease_until,
        case.updated_at,
        CaseNote.objects.filter(case=case).count(),
        Decision.objects.filter(case=case).count(),
        case.actions.count(),
        AuditEvent.objects.filter(target_id__in=[case_id]).count(),
    )


def _not_found_detail(response: Any, ids: dict[str, str]) -> str:
    detail = str(response.json()["detail"])
    for value in ids.values():
        detail = detail.replace(value, "<id>")
    return detail


@pytest.mark.parametrize("role", list(Role))
def test_every_case_operation_by_role_on_cases_in_queues_it_may_and_may_not_work(
    api_for: Any, world: dict[str, dict[str, str]], role: Role
) -> None:
    client = api_for(role)
    before = {q: _state_of(world[q]["case"]) for q in QUEUES if q not in SEES[role]}
    missing = {k: "00000000-0000-0000-0000-00000000abcd" for k in world["general"]}

    got: dict[tuple[str, str], int] = {}
    wanted: dict[tuple[str, str], int] = {}
    for queue in QUEUES:
        ids = world[queue]
        for what, method, url, body, key, visible_status in API_OPERATIONS:
            response = Client().generic(
                method,
                url.format(**ids),
                data=json.dumps(body) if body is not None else "",
                content_type="application/json",
                headers={"Authorization": f"Bearer {client.token}"},
            )
            got[(what, queue)] = response.status_code
            if role not in EXPECTED[key]:
                wanted[(what, queue)] = 403
            elif queue in SEES[role]:
                wanted[(what, queue)] = visible_status
            else:
                wanted[(what, queue)] = 404
                # The same answer as for a case that does not exist.
                absent = Client().generic(
                    method,
                    url.format(**missing),
                    data=json.dumps(body) if body is not None else "",
                    content_type="application/json",
                    headers={"Authorization": f"Bearer {client.token}"},
                )
                assert absent.status_code == 404
                assert _not_found_detail(response, ids) == _not_found_detail(absent, missing)
    listed = Client().get("/api/v1/cases", headers={"Authorization": f"Bearer {client.token}"})

    assert got == wanted
    if role in EXPECTED[("GET", "/cases")]:
        shown = {c["id"] for c in listed.json()}
        assert {q for q in QUEUES if world[q]["case"] in shown} == SEES[role]
    else:
        assert listed.status_code == 403
    assert {q: _state_of(world[q]["case"]) for q in before} == before


@pytest.mark.parametrize("role", CONSOLE)
def test_every_console_page_and_media_url_by_role_on_cases_in_queues_it_may_and_may_not_work(
    world: dict[str, dict[str, str]], role: Role
) -> None:
    from safeguard.review.media import media_token
    from tests.conftest import sign_in_verified
    from tests.factories import UserFactory

    user = UserFactory(role=role.value)
    console = Client()
    sign_in_verified(console, user)
    before = {q: _state_of(world[q]["case"]) for q in QUEUES if q not in SEES[role]}

    got: dict[tuple[str, str], int] = {}
    wanted: dict[tuple[str, str], int] = {}
    for queue in QUEUES:
        ids = dict(world[queue])
        # A URL signed for this very person: only the case's visibility can refuse it.
        token = media_token(user=user, content_id=ids["content"], variant="preview")
        ids["media"] = f"/console/media/{ids['case']}/{ids['content']}/preview?t={token}"
        for what, method, url, form, needs_media, visible_status in CONSOLE_OPERATIONS:
            target = url.format(**ids)
            response = console.get(target) if method == "GET" else console.post(target, form)
            visible = queue in SEES[role] and (role in MEDIA or not needs_media)
            got[(what, queue)] = response.status_code
            if not visible:
                wanted[(what, queue)] = 404
            elif isinstance(visible_status, dict):
                wanted[(what, queue)] = visible_status[role]
            else:
                wanted[(what, queue)] = visible_status
    home = console.get("/").content.decode()

    assert got == wanted
    assert {q for q in QUEUES if world[q]["case"] in home} == SEES[role]
    assert {q: _state_of(world[q]["case"]) for q in before} == before
