"""The one JSON reader of the API, attacked through every operation that takes a JSON body.

Each attack goes through the real URL with the Django test client and a token of a role that
may call the operation, so the refusal comes from the parser and not from authentication. Each
asserts the status, a JSON body with a message that says what is wrong, and that nothing was
written. The operations are discovered from the API itself, so a new one is covered too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguard.accounts.auth import required_permissions
from safeguard.accounts.permissions import ROLE_PERMISSIONS, Role
from safeguard.config.api import api
from safeguard.core.json_body import MAX_DEPTH, BodyRefused, decode_json
from tests.conftest import ApiClient, escalation_body

PLACEHOLDERS = {"name": "general", "entry_id": "1"}


def _json_operations() -> list[tuple[str, str, Role]]:
    """(method, path, a role allowed to call it) for every operation that reads a JSON body."""
    found = []
    for _prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                sources = {getattr(m, "__ninja_param_source__", None) for m in operation.models}
                # /match takes JSON or multipart and reads the JSON body itself.
                if "body" not in sources and path != "/match":
                    continue
                permissions, any_user = required_permissions(operation.auth_callbacks)
                role = next(
                    r for r, held in ROLE_PERMISSIONS.items() if any_user or held & permissions
                )
                for method in operation.methods:
                    found.append((method, path, role))
    return found


OPERATIONS = _json_operations()


def _url(path: str) -> str:
    def fill(match: re.Match[str]) -> str:
        return PLACEHOLDERS.get(match.group(1), "00000000-0000-0000-0000-000000000000")

    return "/api/v1" + re.sub(r"\{([^}]+)\}", fill, path)


def _send(client: ApiClient, method: str, path: str, body: bytes, content_type: str) -> Any:
    return Client().generic(
        method,
        _url(path),
        data=body,
        content_type=content_type,
        headers={"Authorization": f"Bearer {client.token}"},
    )


def test_the_discovery_finds_the_json_operations() -> None:
    paths = {(m, p) for m, p, _ in OPERATIONS}
    assert ("POST", "/escalations") in paths
    assert ("POST", "/match") in paths
    assert ("PUT", "/triage/policy") in paths
    assert ("POST", "/queues/{name}/next") in paths
    assert len(paths) >= 15


# (name, body, Content-Type, status, what the message must say)
ATTACKS: list[tuple[str, bytes, str, int, str]] = [
    ("text/plain", b'{"summary": "hi"}', "text/plain", 415, "application/json"),
    ("xml", b"<escalation><summary>hi</summary></escalation>", "application/xml", 415, "json"),
    ("text/xml", b"{}", "text/xml", 415, "send the body as application/json"),
    ("form", b"summary=hi", "application/x-www-form-urlencoded", 415, "application/json"),
    ("latin-1", b"{}", "application/json; charset=latin-1", 415, "must be UTF-8"),
    ("duplicate", b'{"a": 1, "a": 2}', "application/json", 400, "duplicate key 'a'"),
    ("duplicate deep", b'{"x": [{"k": 1, "k": 1}]}', "application/json", 400, "duplicate key 'k'"),
    ("deep arrays", b"[" * 5000 + b"]" * 5000, "application/json", 400, "nested deeper than 32"),
    ("deep objects", b'{"a":' * 5000 + b"1" + b"}" * 5000, "application/json", 400, "deeper"),
    ("deep unclosed", b"[" * 100_000, "application/json", 400, "nested deeper than 32"),
    ("NaN", b'{"x": NaN}', "application/json", 400, "NaN is not a JSON number"),
    ("Infinity", b'{"x": -Infinity}', "application/json", 400, "Infinity is not a JSON number"),
    ("float overflow", b'{"x": 1e400}', "application/json", 400, "too large to represent"),
    ("huge integer", b'{"x": ' + b"9" * 5000 + b"}", "application/json", 400, "100 digits"),
    ("bad UTF-8", b'{"x": "\xff\xfe"}', "application/json", 400, "not valid UTF-8"),
    ("UTF-16", '{"x": 1}'.encode("utf-16"), "application/json", 400, "not valid UTF-8"),
    ("lone surrogate", b'{"x": "\\ud800"}', "application/json", 400, "lone surrogate"),
    ("truncated", b'{"x": ', "application/json", 400, "malformed JSON"),
]


@pytest.mark.parametrize(("method", "path", "role"), OPERATIONS)
def test_every_json_operation_refuses_bad_bodies_and_writes_nothing(
    api_for: Callable[[Role], ApiClient],
    snapshot_counts: Callable[[], dict[str, int]],
    method: str,
    path: str,
    role: Role,
) -> None:
    client = api_for(role)
    before = snapshot_counts()

    for name, body, content_type, status, mentions in ATTACKS:
        response = _send(client, method, path, body, content_type)

        assert response.status_code == status, (name, method, path, response.content[:300])
        assert response["Content-Type"].startswith("application/json"), name
        assert mentions in response.json()["detail"], (name, response.json())
    assert snapshot_counts() == before


def test_a_json_body_with_charset_utf8_is_accepted(service_api: ApiClient) -> None:
    response = Client().post(
        "/api/v1/escalations",
        data=json.dumps(escalation_body()),
        content_type="application/json; charset=UTF-8",
        headers={"Authorization": f"Bearer {service_api.token}"},
    )

    assert response.status_code == 201, response.content


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(depth=st.integers(min_value=MAX_DEPTH + 1, max_value=6000), kind=st.sampled_from("[{"))
def test_any_depth_over_the_bound_is_a_400_at_escalations_and_match(
    service_api: ApiClient, depth: int, kind: str
) -> None:
    inner = b"[" * depth + b"]" * depth if kind == "[" else b'{"a":' * depth + b"0" + b"}" * depth
    for path in ("/escalations", "/match"):
        response = _send(service_api, "POST", path, inner, "application/json")
        assert response.status_code == 400, (path, depth)
        assert f"nested deeper than {MAX_DEPTH}" in response.json()["detail"]


# --- The reader itself ---------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=30,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=200)
@given(value=json_values)
def test_what_json_dumps_writes_reads_back_unchanged(value: Any) -> None:
    body = json.dumps(value, ensure_ascii=False).encode()
    if _depth(value) > MAX_DEPTH:
        with pytest.raises(BodyRefused):
            decode_json(body)
    else:
        assert decode_json(body) == value


@settings(max_examples=300)
@given(
    data=st.binary(max_size=300)
    | st.text(alphabet='[]{}",:\\ 0123456789aeEnul.-', max_size=300).map(str.encode)
)
def test_any_bytes_are_read_or_refused_with_a_400_never_another_error(data: bytes) -> None:
    refused: BodyRefused | None = None
    try:
        decode_json(data)
    except BodyRefused as exc:
        refused = exc
    if refused is not None:
        assert refused.status == 400
        assert refused.message
