"""Every API endpoint by every role: deny by default, allow exactly the roles the table names."""

from __future__ import annotations

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
