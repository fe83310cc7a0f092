"""The published OpenAPI document: valid, every reference resolves, and every operation names
the error statuses it can answer, with the error bodies the API sends."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import validate

from safeguard.accounts.permissions import Role
from safeguard.audit.models import AuditEvent
from safeguard.config.api import api
from safeguard.core.openapi import ErrorOut, answers, complete_document
from tests.conftest import ApiClient

SCHEMAS = "#/components/schemas/"
ERROR_REFS = {f"{SCHEMAS}ErrorOut", f"{SCHEMAS}ValidationErrorOut"}


@pytest.fixture
def document(db: None) -> dict[str, Any]:
    """The document exactly as a client downloads it."""
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def _nodes(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _nodes(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _nodes(value, f"{where}/{i}")


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} is not a reference inside the document"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), f"{ref} does not resolve"
        assert part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)  # raises with the first problem found


def test_every_reference_resolves_and_no_definitions_hide_below_the_root(
    document: dict[str, Any],
) -> None:
    # openapi-spec-validator does not follow references inside 3.1 schemas; this does.
    refs = [(where, node["$ref"]) for where, node in _nodes(document) if "$ref" in node]
    assert refs, "the document references its component schemas"
    for where, ref in refs:
        assert isinstance(_resolve(document, ref), dict), f"{where}: {ref}"
    nested = [where for where, node in _nodes(document) if "$defs" in node and where != "#"]
    assert nested == []


def test_the_match_body_names_its_hash_model_under_components(document: dict[str, Any]) -> None:
    body = document["paths"]["/api/v1/match"]["post"]["requestBody"]["content"]
    schema = body["application/json"]["schema"]
    items = schema["properties"]["hashes"]["items"]
    assert items == {"$ref": f"{SCHEMAS}HashIn"}
    assert set(_resolve(document, items["$ref"])["properties"]) == {
        "signal_type",
        "hash",
        "quality",
    }


def test_every_operation_documents_the_errors_its_shape_allows(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        statuses = {int(s) for s in operation["responses"]}
        sources = {p["in"] for p in operation.get("parameters", [])}
        body = operation.get("requestBody")
        label = f"{method} {path}"
        assert {400, 401, 403, 413} <= statuses, label
        assert any(200 <= s < 300 for s in statuses), label
        if "path" in sources:
            assert {404, 422} <= statuses, label
        if sources or body:
            assert 422 in statuses, label
        # A query parameter: a URL too long for the web server is refused by it (its own page).
        assert (414 in statuses) == ("query" in sources), label
        assert (415 in statuses) == ("application/json" in (body or {}).get("content", {})), label
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            if int(status) == 414:
                assert "content" not in response, label
                continue
            schema = response["content"]["application/json"]["schema"]
            refs = {schema["$ref"]} if "$ref" in schema else {s["$ref"] for s in schema["anyOf"]}
            assert refs <= ERROR_REFS, f"{label} {status}"
            assert response["description"] not in {"Unknown Status Code", ""}, f"{label} {status}"


def test_the_declared_refusals_are_documented(document: dict[str, Any]) -> None:
    def statuses(method: str, path: str) -> set[int]:
        return {int(s) for s in document["paths"][f"/api/v1{path}"][method]["responses"]}

    # Refusals of the domain, each raised by the service behind the operation.
    assert 409 in statuses("post", "/escalations")  # a reused idempotency key
    assert 409 in statuses("post", "/content/{content_id}/media")  # media already stored
    assert 409 in statuses("post", "/cases/{case_id}/claim/renew")  # not the holder
    assert 409 in statuses("put", "/triage/policy")  # changed meanwhile
    assert 404 in statuses("post", "/match")  # an unknown bank named in the body
    assert 404 in statuses("post", "/grants")  # an unknown queue or case named in the body
    # A domain 422 carries `detail` alone, so the schema allows both bodies there.
    reassign = document["paths"]["/api/v1/cases/{case_id}/reassign"]["post"]["responses"]["422"]
    assert {s["$ref"] for s in reassign["content"]["application/json"]["schema"]["anyOf"]} == (
        ERROR_REFS
    )
    export = document["paths"]["/api/v1/banks/{name}/export"]["get"]["responses"]["200"]
    assert set(export["content"]) == {"text/csv", "text/plain"}


def test_the_document_is_the_same_every_time(document: dict[str, Any]) -> None:
    again = json.loads(json.dumps(api.get_openapi_schema(path_params={})))
    assert again == document


def test_embedded_definitions_are_moved_and_a_clash_is_refused() -> None:
    inner = {"type": "object", "properties": {"n": {"type": "integer"}}}
    doc: dict[str, Any] = {
        "paths": {
            "/x": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "$defs": {"Inner": inner},
                                    "properties": {"i": {"$ref": "#/$defs/Inner"}},
                                }
                            }
                        }
                    },
                    "responses": {200: {"description": "OK"}},
                }
            }
        },
        "components": {"schemas": {}},
    }
    complete_document(doc)
    schema = doc["paths"]["/x"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"properties": {"i": {"$ref": f"{SCHEMAS}Inner"}}}
    assert doc["components"]["schemas"]["Inner"] == inner
    assert set(doc["paths"]["/x"]["post"]["responses"]) == {200, 400, 401, 403, 413, 415, 422}

    clash = copy.deepcopy(doc)
    clash["paths"]["/x"]["post"]["requestBody"]["content"]["application/json"]["schema"] = {
        "$defs": {"Inner": {"type": "string"}}
    }
    with pytest.raises(ValueError, match="Inner"):
        complete_document(clash)


def test_answers_refuses_a_success_status_or_a_repeat() -> None:
    assert answers({201: ErrorOut}, 404)[404] is ErrorOut
    with pytest.raises(ValueError, match="not an error status"):
        answers(ErrorOut, 200)
    with pytest.raises(ValueError, match="declared twice"):
        answers(ErrorOut, 404, 404)


@pytest.mark.parametrize(
    ("role", "url", "body"),
    [
        (Role.SERVICE, "/api/v1/actions/{id}/confirm", {}),
        (Role.LEAD, "/api/v1/actions/{id}/reverse", {"reason": "a mistake"}),
    ],
)
def test_an_unknown_action_answers_404_and_changes_nothing(
    api_for: Any, role: Role, url: str, body: dict[str, Any]
) -> None:
    caller: ApiClient = api_for(role)
    events = AuditEvent.objects.count()
    unknown = uuid.uuid4()

    response = caller.post(url.format(id=unknown), body)

    assert response.status_code == 404, response.content
    assert response.json() == {"detail": f"no action {unknown}"}
    assert AuditEvent.objects.count() == events
