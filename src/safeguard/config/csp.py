"""The Content-Security-Policy middleware: django-csp's, with the few routes that need a
different policy named in one table (`SAFEGUARD_CSP_ROUTES`) instead of scattered decorators."""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


class RoutePolicyMiddleware(CSPMiddleware):
    """The strict policy everywhere; on a route named in `SAFEGUARD_CSP_ROUTES`, the directives
    given there replace the strict ones (a `None` drops the directive).

    A response that already carries a Content-Security-Policy header (protected media sets its
    own, stricter one) keeps it: django-csp never overwrites an existing header.
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        match = getattr(request, "resolver_match", None)
        if not report_only and parts.replace is None and match is not None:
            parts.replace = settings.SAFEGUARD_CSP_ROUTES.get(match.view_name)
        return parts
