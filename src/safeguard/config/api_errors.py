"""Every error under /api/ answered as JSON, whatever part of Django produced it.

The API's own errors are JSON already (`safeguard.config.api`). The rest come from Django
around it: an unknown path (404), a method the route does not take (405), a body over
DATA_UPLOAD_MAX_MEMORY_SIZE (Django's 400 page for RequestDataTooBig; here a 413), another
suspicious request (400), an unhandled exception (500). A client that speaks JSON must never
have to parse an HTML page, and the page must not leak what renders it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

API_PREFIX = "/api/"

_security_logger = logging.getLogger("django.security.RequestDataTooBig")


def _is_api(request: HttpRequest) -> bool:
    return str(request.path_info).startswith(API_PREFIX)


def _too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        {"detail": f"the request body is larger than the {limit} bytes an API request may carry"},
        status=413,
    )


def _message(request: HttpRequest, response: HttpResponseBase) -> str:
    status = response.status_code
    if status == 404:
        return f"no API endpoint at {request.path}"
    if status == 405:
        allowed = response.get("Allow", "")
        return f"{request.method} is not allowed on {request.path} (allowed: {allowed})"
    if status == 413:
        return f"the request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes"
    if status >= 500:
        return "internal server error; it has been logged"
    if status == 400:
        return "bad request: the request could not be read"
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


class ApiErrorsMiddleware:
    """Refuses an oversized or ill-declared body before it is read, and turns any non-JSON
    error response under /api/ into `{"detail": ...}` with the same status and headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not _is_api(request):
            return self.get_response(request)
        refused = self._refuse_early(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        return self._as_json(request, response)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not _is_api(request) or not isinstance(exception, RequestDataTooBig):
            return None
        # As Django does for this exception: the body cannot be read again, and the refusal is a
        # security event.
        request._mark_post_parse_error()  # type: ignore[attr-defined]
        _security_logger.error(str(exception), extra={"status_code": 413, "request": request})
        return _too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)

    @staticmethod
    def _refuse_early(request: HttpRequest) -> HttpResponse | None:
        declared = request.META.get("CONTENT_LENGTH") or ""
        if not declared:
            return None
        if not declared.isascii() or not declared.isdigit():
            return JsonResponse(
                {"detail": "the Content-Length header must be a whole number of bytes"},
                status=400,
            )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        # Multipart bodies carry media, which is streamed to disk and bounded by the endpoint
        # that takes it (SAFEGUARD_MAX_MEDIA_BYTES); every other body is read into memory.
        multipart = (request.content_type or "").startswith("multipart/")
        if limit is not None and not multipart and int(declared) > limit:
            return _too_large(limit)
        return None

    @staticmethod
    def _as_json(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.status_code < 400:
            return response
        if not isinstance(response, HttpResponse):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        # The response is changed in place, so the headers other middleware set stay.
        response.content = json.dumps({"detail": _message(request, response)}).encode()
        response["Content-Type"] = "application/json"
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response
