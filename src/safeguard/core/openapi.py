"""The API's error bodies as schemas, and the OpenAPI document completed with every status an
operation can answer.

Each operation declares its success bodies and the refusals particular to it with `answers()`;
`complete_document()` then adds what every operation shares, judged from the operation's own
shape (any operation: 400, 401, 403, 413; a path parameter: 404; a query parameter: 414; a
parameter or a body: 422; a JSON body: 415), and moves JSON-schema `$defs` embedded by hand
into `components`.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from ninja import Schema
from ninja.openapi.schema import REF_TEMPLATE
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import BaseModel

__all__ = [
    "ErrorOut",
    "FieldErrorOut",
    "RefusedOut",
    "ValidationErrorOut",
    "answers",
    "body_schema",
    "complete_document",
    "file_upload",
]


class ErrorOut(Schema):
    """Every error the API answers: what is wrong, in a sentence."""

    detail: str


class FieldErrorOut(Schema):
    field: str
    message: str


class ValidationErrorOut(Schema):
    """A request refused by its declared types and bounds: each field and what is wrong with it."""

    detail: str
    errors: list[FieldErrorOut]


# A 422 from an operation whose domain rules also refuse (a claim that is not the caller's, a
# policy that does not compile): either the field errors or a sentence.
RefusedOut = ValidationErrorOut | ErrorOut

_JSON: Final = "application/json"
_PREFIX: Final = REF_TEMPLATE.removesuffix("{model}")

DESCRIPTIONS: Final[dict[int, str]] = {
    400: (
        "The request could not be read: a malformed JSON body (not UTF-8, a repeated key, "
        "nesting deeper than 32, NaN or Infinity, an absurd number) or a malformed header."
    ),
    401: (
        "No credentials, or a bearer token that is unknown, revoked or belongs to a disabled "
        "account."
    ),
    403: (
        "The caller's role lacks the permission this operation needs, the domain refuses this "
        "caller, or a console session has not passed the second factor."
    ),
    404: (
        "Nothing the caller may see goes by that name: the same answer whether it does not "
        "exist or is hidden from the caller (or no route matches the path)."
    ),
    409: "The request conflicts with what is already recorded.",
    413: "The body is larger than the API accepts (the media limit, for an upload).",
    414: "The URL with its query is longer than the web server accepts.",
    415: "The body is not application/json in UTF-8.",
    422: (
        "The request is well-formed but refused: `errors` names each invalid field; a refusal "
        "by the domain's rules carries `detail` alone."
    ),
}


def answers(success: Any, /, *errors: int) -> dict[int, Any]:
    """The `response=` of an operation: its success body (or `{status: body}`), and the error
    statuses particular to it. The ones every operation of its shape shares are added to the
    document by `complete_document`; declare 422 here when the domain refuses with it too."""
    result: dict[int, Any] = dict(success) if isinstance(success, dict) else {200: success}
    for status in errors:
        if status < 400:
            raise ValueError(f"{status} is not an error status")
        if status in result:
            raise ValueError(f"{status} is declared twice")
        result[status] = RefusedOut if status == 422 else ErrorOut
    return result


def file_upload(**fields: dict[str, Any]) -> dict[str, Any]:
    """The `openapi_extra` of an operation that takes one file in the multipart field `file`,
    beside the optional text `fields` given as their JSON schemas."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}, **fields},
                    }
                }
            },
        }
    }


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of a body model for an `openapi_extra` written by hand: built as Ninja
    builds the bodies it reads itself, its nested models referenced under `components`
    (`complete_document` moves the `$defs` there)."""
    return model.model_json_schema(
        ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema
    )


def _component(model: type[BaseModel]) -> dict[str, Any]:
    schema = body_schema(model)
    schema.pop("$defs", None)
    return schema


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"{_PREFIX}{name}"}


def _error_response(status: int, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": DESCRIPTIONS[status], "content": {_JSON: {"schema": schema}}}


def _hoist_defs(node: Any, components: dict[str, Any]) -> None:
    """Move every `$defs` below the document's root into `components/schemas`, pointing the
    references at their new place: a `#/$defs/...` reference resolves against the root of the
    whole document, where there is no `$defs`."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        defs = item.pop("$defs", None)
        if isinstance(defs, dict):
            for name, definition in defs.items():
                known = components.get(name)
                if known is not None and known != definition:
                    raise ValueError(f"two different schemas are both named {name!r}")
                components[name] = definition
                stack.append(definition)
        ref = item.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            item["$ref"] = _PREFIX + ref.removeprefix("#/$defs/")
        stack.extend(item.values())


def _shared_statuses(operation: dict[str, Any]) -> list[int]:
    sources = {p.get("in") for p in operation.get("parameters", [])}
    body = operation.get("requestBody")
    # Any request to /api/ with a body over the limit is refused before it is read, whether or
    # not the operation takes one (`safeguard.config.api_errors`).
    statuses = [400, 401, 403, 413]
    if "path" in sources:
        statuses.append(404)
    # A query long enough is refused by the web server itself, before the API reads it.
    if "query" in sources:
        statuses.append(414)
    if sources or body:
        statuses.append(422)
    if body and _JSON in body.get("content", {}):
        statuses.append(415)
    return statuses


def complete_document(document: dict[str, Any]) -> dict[str, Any]:
    """Complete an OpenAPI document Ninja built: the error schemas in `components`, each
    operation's shared error statuses, readable descriptions, no `$defs` below the root."""
    # Ninja puts each operation's `openapi_extra` into the document as the same objects, on every
    # build: change a copy, or the next build finds the `$defs` already gone.
    paths = document["paths"] = copy.deepcopy(document.get("paths", {}))
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorOut, FieldErrorOut, ValidationErrorOut):
        components.setdefault(model.__name__, _component(model))
    _hoist_defs(paths, components)
    for methods in paths.values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            for status in _shared_statuses(operation):
                if status in responses or str(status) in responses:
                    continue
                if status == 414:
                    # The web server's own page, not the API's: no body is promised.
                    responses[status] = {"description": DESCRIPTIONS[414]}
                    continue
                schema = _ref("ValidationErrorOut" if status == 422 else "ErrorOut")
                responses[status] = _error_response(status, schema)
            for status, response in responses.items():
                code = int(status)
                if code in DESCRIPTIONS and "content" in response:
                    response["description"] = DESCRIPTIONS[code]
            operation["responses"] = dict(sorted(responses.items(), key=lambda kv: int(kv[0])))
    return document
