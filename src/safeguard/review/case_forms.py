"""What the case page's small forms share: the signed-in person, the case they may see, the way
back to the form's place on the page, and a refused form kept for one showing of the page."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse

from safeguard.accounts.models import User
from safeguard.audit.events import AuditSource
from safeguard.cases.models import Case
from safeguard.cases.selectors import CaseNotFound, case_get_for


def person(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - console_required let only signed-in users in
    return user


def visible_case(request: HttpRequest, case_id: uuid.UUID) -> Case:
    try:
        return case_get_for(user=person(request), case_id=case_id, source=AuditSource.CONSOLE)
    except CaseNotFound:
        raise Http404("no such case") from None


def back_to(case_id: uuid.UUID, anchor: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('console-case', kwargs={'case_id': case_id})}#{anchor}")


def keep_refused(request: HttpRequest, key: str, case: Case, **entered: Any) -> None:
    """Hold what the person typed (and the error) for the next showing of the case page."""
    request.session[key] = {"case": str(case.pk), **entered}


def refused_form(request: HttpRequest, key: str, case: Case) -> dict[str, str]:
    """The form refused on the last submit for this case, once; {} when there is none."""
    rejected = request.session.get(key)
    if not (isinstance(rejected, dict) and rejected.get("case") == str(case.pk)):
        return {}
    del request.session[key]
    return {k: str(v) for k, v in rejected.items()}
