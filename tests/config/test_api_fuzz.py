"""Schemathesis against the live server: every operation of the published OpenAPI document, with
every role's token and none, answers no 5xx and nothing the document does not describe.

The data is seeded first (cases in queues, a decided case with actions, a bank with an entry, a
page, a read grant), and a share of the generated requests name those objects in their path, so
the operations reach their deep paths and not only their 404s. Each caller's run is two parts:
`EXAMPLES` random valid and invalid requests per operation (Hypothesis, derandomized), then
Schemathesis's deterministic boundary values for the operations the caller may call. On two
shared cores the eight runs take about 2.5 minutes on SQLite and 3.5 on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from safeguard.accounts.permissions import Role
from safeguard.accounts.services import api_token_create
from safeguard.actions.models import Action
from safeguard.audit.events import AuditSource
from safeguard.cases.models import Case, CaseEscalation
from safeguard.evidence.models import ContentItem
from safeguard.matching.models import BankEntry
from safeguard.rota.models import PageKind
from safeguard.rota.services import page_notice
from tests.accounts.test_endpoint_permissions import EXPECTED
from tests.conftest import ApiClient, escalation_body
from tests.factories import UserFactory

# The queue rows come from a data migration: restore them for the tests after this one.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Examples per operation and caller; raise it for a deeper run (`SAFEGUARD_FUZZ_EXAMPLES=200`).
EXAMPLES = max(25, int(os.environ.get("SAFEGUARD_FUZZ_EXAMPLES", "25")))
# Where the caller may not call the operation, every request stops at authentication or
# authorisation before its input is read, so a few varied ones show the refusal holds (which
# roles may call what is checked exhaustively by tests/accounts/test_endpoint_permissions.py);
# the examples go where input is parsed and acted on.
DENIED_EXAMPLES = max(5, EXAMPLES // 5)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
CALLERS: list[Role | None] = [None, *Role]
BANK = "fuzz-bank"


def _file(service: ApiClient, n: int, **overrides: Any) -> dict[str, Any]:
    body = escalation_body(
        external_id=f"fuzz-{n}",
        subjects=[{"platform_id": f"user:fuzz-suspect-{n}", "role": "suspect"}],
        content=[
            {"platform_id": f"img:fuzz-{n}", "kind": "image"},
            {"platform_id": f"thread:fuzz-{n}", "kind": "message_thread", "text": "hello"},
        ],
        **overrides,
    )
    response = service.post("/api/v1/escalations", body)
    assert response.status_code == 201, response.content
    escalation_id = response.json()["id"]
    # The caller who files learns nothing of the case; the test reads it from the database.
    case_id = CaseEscalation.objects.get(escalation_id=escalation_id).case_id
    return {"escalation_id": escalation_id, "case_id": str(case_id)}


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def _claim(client: ApiClient, case_id: str, others: list[str]) -> None:
    # The queue serves the most urgent case first: make this one the most urgent.
    Case.objects.filter(pk__in=others).update(priority="P3")
    Case.objects.filter(pk=case_id).update(priority="P0")
    assert _ok(client.post("/api/v1/queues/general/next", {}))["id"] == case_id


def _seed(settings_: Any) -> dict[str, Any]:
    """Accounts of every role with a token each, and objects for the path parameters to name."""
    # Deliveries wait in the task queue; nothing leaves this machine.
    settings_.SAFEGUARD_PLATFORM_WEBHOOK_URL = ""
    settings_.SAFEGUARD_PAGING_WEBHOOK_URL = ""
    callers: dict[Role, ApiClient] = {}
    for role in Role:
        user = UserFactory(username=f"fuzz-{role.value}", role=role.value)
        token = api_token_create(user=user, name="fuzz", actor=None, source=AuditSource.CLI)
        callers[role] = ApiClient(user, token.plaintext)
    service, specialist, lead = callers[Role.SERVICE], callers[Role.SPECIALIST], callers[Role.LEAD]
    admin, auditor = callers[Role.ADMIN], callers[Role.AUDITOR]

    # Four cases in the general queue: one waiting, one decided with actions (one of them
    # confirmed by the platform), one held by the specialist and one by the lead.
    filed = [_file(service, n) for n in range(4)]
    waiting, decided, specialists, leads = (f["case_id"] for f in filed)
    every = [f["case_id"] for f in filed]
    Case.objects.filter(pk__in=every).update(queue="general")
    _claim(specialist, decided, every)
    _ok(
        specialist.post(
            f"/api/v1/cases/{decided}/decision",
            {
                "labels": ["grooming"],
                "reason": "fuzz",
                "actions": ["remove_content", "ban_account"],
            },
        )
    )
    actions = list(Action.objects.filter(case_id=decided).order_by("kind"))
    _ok(service.post(f"/api/v1/actions/{actions[0].pk}/confirm", {}))
    _claim(specialist, specialists, [waiting, specialists, leads])
    _claim(lead, leads, [waiting, leads])

    _ok(admin.post("/api/v1/banks", {"name": BANK, "description": "fuzz"}), 201)
    digest = hashlib.sha256(b"fuzz").hexdigest()
    _ok(
        admin.post(
            f"/api/v1/banks/{BANK}/import",
            {"format": "text", "content": f"{digest}\n", "signal_type": "sha256"},
        )
    )
    with transaction.atomic():  # as the deadline task that sends such notices does
        pages = page_notice(
            case=Case.objects.get(pk=waiting),
            kind=PageKind.DEADLINE_WARNING,
            recipients=[specialist.user, lead.user],
            message="fuzz",
        )
    grant = _ok(
        lead.post(
            "/api/v1/grants",
            {
                "grantee": auditor.user.username,
                "queue": "general",
                "reason": "fuzz",
                "expires_at": (timezone.now() + timedelta(days=7)).isoformat(),
            },
        ),
        201,
    )
    return {
        "tokens": {role: client.token for role, client in callers.items()},
        "values": {
            "case_id": every,
            "escalation_id": [f["escalation_id"] for f in filed],
            "content_id": [str(c.pk) for c in ContentItem.objects.order_by("platform_id")],
            "action_id": [str(a.pk) for a in actions],
            "page_id": [str(p.pk) for p in pages],
            "grant_id": [grant["id"]],
            "entry_id": list(BankEntry.objects.values_list("pk", flat=True)),
        },
        # `name` is a queue's or a bank's, by the path it is in.
        "names": {"/queues/": ["general", "lead", "fuzz-queue"], "/banks/": [BANK]},
    }


@pytest.fixture
def seeded(transactional_db: None, settings: Any) -> dict[str, Any]:
    return _seed(settings)


def _seeded_parameters(operation: Any, seeded: dict[str, Any]) -> st.SearchStrategy[Any]:
    """None (keep the generated path) or path parameters that name seeded objects."""
    known: dict[str, st.SearchStrategy[Any]] = {}
    for parameter in operation.path_parameters:
        name = parameter.name
        if name == "name":
            for part, choices in seeded["names"].items():
                if part in operation.path:
                    known[name] = st.sampled_from(choices)
        elif name in seeded["values"]:
            known[name] = st.sampled_from(seeded["values"][name])
    if not known:
        return st.none()
    return st.none() | st.fixed_dictionaries(known)


def _fuzz(
    operation: Any,
    seeded: dict[str, Any],
    headers: dict[str, str],
    seen: Counter[tuple[str, int]],
    examples: int,
) -> None:
    """Run `examples` generated requests (valid and invalid ones) against one operation."""
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE
    )

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        # No shrinking: a failure is reported as found, with a curl command that replays it, so
        # a failing run stays within its time budget too.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(case=strategy, chosen=_seeded_parameters(operation, seeded))
    def check(case: Any, chosen: dict[str, Any] | None) -> None:
        if chosen:
            case.path_parameters = {**case.path_parameters, **chosen}
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        seen[operation.label, response.status_code] += 1

    check()


def _boundaries(base: str, headers: dict[str, str], labels: list[str], workdir: Path) -> None:
    """Schemathesis's coverage phase, through its command line: for every operation, each
    parameter and body field at and past its bounds (the longest name, the largest number, a
    missing required field, a wrong type), valid and invalid. Deterministic, and it finds what
    random examples rarely draw: it found the 100-character bank name that overflowed the audit
    log's target id on PostgreSQL. Only the operations in `labels` (the ones the caller may
    call: for the others every request stops at 401 or 403, as the examples above showed)."""
    if not labels:
        return
    command = [str(Path(sys.executable).with_name("st")), "--no-color", "run"]
    command += [f"{base}/api/v1/openapi.json", "--phases", "coverage", "--workers", "1"]
    command += ["--checks", ",".join(check.__name__ for check in CHECKS)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    for label in labels:
        command += ["--include-name", label]
    # In a directory of its own: the command keeps a cache of what it found beside it.
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=workdir)
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]


def _allowed(label: str, caller: Role | None) -> bool:
    method, path = label.split(" ", 1)
    return caller in EXPECTED[method, path.removeprefix("/api/v1")]


# Schemathesis's own pytest integration (`schemathesis.pytest.from_fixture`) cannot load a
# schema from a fixture under pytest 9.2 (it sets `Item._nodeid`, which pytest no longer has),
# so each operation's strategy (`APIOperation.as_strategy`) drives a Hypothesis test here.
@pytest.mark.parametrize("caller", CALLERS, ids=lambda role: role.value if role else "anonymous")
def test_every_operation_answers_as_documented(
    live_server: Any, seeded: dict[str, Any], caller: Role | None, tmp_path: Path
) -> None:
    # The address the server listens on (an IPv4 socket), not a name to resolve.
    base = live_server.url.replace("://localhost:", "://127.0.0.1:")
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    # A new connection for each request: on a kept-alive connection each request waits out
    # TCP's delayed acknowledgement (about 40 ms), which makes the run ten times slower.
    headers = {"Connection": "close"}
    if caller is not None:
        headers["Authorization"] = f"Bearer {seeded['tokens'][caller]}"
    seen: Counter[tuple[str, int]] = Counter()
    failures, labels = [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        examples = EXAMPLES if _allowed(operation.label, caller) else DENIED_EXAMPLES
        try:
            _fuzz(operation, seeded, headers, seen, examples)
        # Every operation's failures are collected, to be reported together.
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert failures == [], "\n\n".join(failures)

    assert len(labels) == len(EXPECTED), "every operation of the document was fuzzed"
    statuses = {label: {s for (op, s), n in seen.items() if op == label} for label in labels}
    for label, answered in statuses.items():
        wanted = EXAMPLES if _allowed(label, caller) else DENIED_EXAMPLES
        assert sum(n for (op, _s), n in seen.items() if op == label) >= wanted, label
        if _allowed(label, caller):
            # The caller got past authentication and authorisation at least once.
            assert answered - {401, 403}, f"{label}: only {sorted(answered)}"
        else:
            assert not {s for s in answered if s < 300}, f"{label}: {sorted(answered)}"

    _boundaries(base, headers, [label for label in labels if _allowed(label, caller)], tmp_path)
