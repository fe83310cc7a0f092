"""The REST API: one NinjaAPI at /api/v1 that denies by default, and its errors mapped to 4xx."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from safeguard.accounts.api import router as accounts_router
from safeguard.accounts.auth import InvalidToken, deny_all
from safeguard.actions.api import router as actions_router
from safeguard.audit.api import router as audit_router
from safeguard.cases.api import router as cases_router
from safeguard.cases.grant_api import router as grants_router
from safeguard.cases.playbook_api import router as playbooks_router
from safeguard.cases.queue_api import router as queues_router
from safeguard.cases.search_api import router as search_router
from safeguard.core.errors import DomainError
from safeguard.core.json_body import BodyRefused, check_media_type, decode_json
from safeguard.core.openapi import complete_document
from safeguard.evidence.api import router as evidence_router
from safeguard.evidence.hold_api import router as holds_router
from safeguard.intake.api import router as intake_router
from safeguard.lawenforcement.api import router as le_router
from safeguard.matching.api import router as matching_router
from safeguard.rota.api import router as rota_router
from safeguard.triage.api import router as triage_router
from safeguard.triage.bulk_api import router as bulk_router


class _ExplainingParser(Parser):
    """The one reader of JSON bodies for every operation: `application/json` in UTF-8 or 415;
    duplicate keys, nesting deeper than 32, NaN/Infinity and absurd numbers are a 400 that
    says what is wrong (see `safeguard.core.json_body`)."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            check_media_type(request.content_type, (request.content_params or {}).get("charset"))
            return decode_json(request.body)
        except BodyRefused as exc:
            # Ninja turns any parser exception into a bare 400; the handler below answers with
            # this status and message instead.
            request._safeguard_body_refused = exc  # type: ignore[attr-defined]
            raise


class _DocumentedApi(NinjaAPI):
    """The API whose OpenAPI document names every status each operation can answer."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        complete_document(document)
        return document


api = _DocumentedApi(
    title="Safeguard API",
    version="1",
    description="Intake, cases and evidence for a child-safety operations team.",
    urls_namespace="api-v1",
    docs_url="/docs",
    auth=deny_all(),
    parser=_ExplainingParser(),
)

for router in (
    intake_router,
    evidence_router,
    holds_router,
    # Before cases_router: its /cases/{case_id} would otherwise take /cases/bulk.
    bulk_router,
    cases_router,
    queues_router,
    grants_router,
    playbooks_router,
    search_router,
    triage_router,
    rota_router,
    matching_router,
    actions_router,
    le_router,
    audit_router,
    accounts_router,
):
    api.add_router("", router)


def _field(loc: Any) -> str:
    parts = [str(p) for p in loc]
    # Ninja prefixes the location with the parameter source and name ("body", "payload").
    if parts[:2] == ["body", "payload"]:
        parts = parts[2:]
    elif parts and parts[0] in {"body", "query", "path"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _message(msg: str) -> str:
    # Pydantic prefixes messages raised by our validators; the field name says enough.
    return msg.removeprefix("Value error, ")


def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": _field(e.get("loc", ())), "message": _message(e.get("msg", ""))}
        for e in exc.errors
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return api.create_response(
        request, {"detail": f"invalid request: {summary}", "errors": errors}, status=422
    )


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    refused: BodyRefused | None = getattr(request, "_safeguard_body_refused", None)
    if exc.status_code == 400 and refused is not None:
        return api.create_response(request, {"detail": refused.message}, status=refused.status)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


def _unauthenticated(request: HttpRequest, exc: object) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": "authentication required: send 'Authorization: Bearer <token>' or sign in"},
        status=401,
    )


# Ninja types a handler's second argument as the exception or its class; these take either.
def _status(code: int, message: str | None = None) -> Callable[[HttpRequest, object], HttpResponse]:
    def handler(request: HttpRequest, exc: object) -> HttpResponse:
        return api.create_response(request, {"detail": message or str(exc)}, status=code)

    return handler


api.add_exception_handler(ValidationError, _validation)  # type: ignore[arg-type]
api.add_exception_handler(AuthenticationError, _unauthenticated)
api.add_exception_handler(HttpError, _http_error)  # type: ignore[arg-type]
api.add_exception_handler(
    InvalidToken, _status(401, "the API token is invalid, revoked or its account is disabled")
)


def _refused(request: HttpRequest, exc: object) -> HttpResponse:
    """Every domain refusal answers with the status of its kind (safeguard.core.errors)."""
    status = exc.status if isinstance(exc, DomainError) else 400
    return api.create_response(request, {"detail": str(exc)}, status=status)


api.add_exception_handler(DomainError, _refused)
