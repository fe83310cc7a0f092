"""Shared fixtures: a vault per test, one account per role, and an API client that sends a token;
and the end-of-run check that every audit event type was asserted by some test."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import settings as hypothesis_settings

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.accounts.selectors import totp_device_confirmed_for
from safeguard.accounts.services import api_token_create, totp_device_create
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.cases.models import Case
from safeguard.evidence.models import Blob, ContentItem
from safeguard.intake.models import Escalation, Subject
from safeguard.matching import registry
from tests.audit_helpers import unasserted
from tests.factories import UserFactory

# Hypothesis fails an example that takes over 200 ms by default: a measure of the machine (two
# cores shared by several processes), not of the code. Property tests bound their work by their
# inputs instead; a test that promises speed measures it itself (tests/signals, tests/triage).
hypothesis_settings.register_profile("safeguard", deadline=None, print_blob=True)
hypothesis_settings.load_profile("safeguard")


@pytest.fixture(autouse=True)
def vault_dir(settings: Any, tmp_path: Path) -> Path:
    vault = tmp_path / "vault"
    settings.SAFEGUARD_VAULT_DIR = vault
    return vault


@pytest.fixture(autouse=True)
def _fresh_match_index(settings: Any, tmp_path: Path) -> Iterator[None]:
    """A hash index of each test's own banks. The process keeps its index in memory, and the
    database row that dates it survives each test's rollback unchanged while entry ids are
    reused, so an index one test built would otherwise answer the next test's matches."""
    settings.SAFEGUARD_INDEX_DIR = tmp_path / "index"
    registry.forget()
    yield
    registry.forget()


class ApiClient:
    """A Django test client that authenticates with a bearer token and speaks JSON."""

    def __init__(self, user: User | None, token: str | None) -> None:
        self.user = user
        self.token = token
        self.client = Client()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self._headers())

    def post(self, path: str, body: Any = None, *, raw: bytes | str | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(
            path, data=data, content_type="application/json", headers=self._headers()
        )

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(
            path, data=json.dumps(body), content_type="application/json", headers=self._headers()
        )

    def upload(self, path: str, files: dict[str, Any], **fields: str) -> Any:
        return self.client.post(path, {**files, **fields}, headers=self._headers())


@pytest.fixture
def api_for(db: None) -> Callable[[Role], ApiClient]:
    """An API client for a fresh account holding `role`."""

    def make(role: Role) -> ApiClient:
        user = UserFactory(role=role.value)
        token = api_token_create(user=user, name="test", actor=None, source=AuditSource.CLI)
        return ApiClient(user, token.plaintext)

    return make


@pytest.fixture
def service_api(api_for: Callable[[Role], ApiClient]) -> ApiClient:
    return api_for(Role.SERVICE)


@pytest.fixture
def specialist_api(api_for: Callable[[Role], ApiClient]) -> ApiClient:
    return api_for(Role.SPECIALIST)


@pytest.fixture
def anonymous_api() -> ApiClient:
    return ApiClient(None, None)


@pytest.fixture
def snapshot_counts() -> Callable[[], dict[str, int]]:
    """Row counts of everything intake and evidence write, to prove a refusal changed nothing."""

    def counts() -> dict[str, int]:
        return {
            model.__name__: model.objects.count()
            for model in (Escalation, Case, Subject, ContentItem, Blob, AuditEvent)
        }

    return counts


def case_of(filed: Any) -> Case:
    """The case an escalation filed through the API joined, read from the database: the
    filer's answer does not say (a caller who files does not read cases)."""
    body = filed.json() if hasattr(filed, "json") else filed
    escalation = Escalation.objects.select_related("case_link__case").get(pk=body["id"])
    return escalation.case_link.case


def escalation_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "user_report",
        "external_id": "ext-1",
        "category": "grooming",
        "summary": "An adult asked a child to keep their chats secret.",
        "subjects": [
            {"platform_id": "user:s1", "role": "suspect"},
            {"platform_id": "user:v1", "role": "victim", "age": 12, "country": "gb"},
        ],
        "content": [
            {"platform_id": "thread:1", "kind": "message_thread", "text": "how old are you?"}
        ],
    }
    body.update(overrides)
    return body


def sign_in_verified(client: Client, user: User) -> TOTPDevice:
    """Sign `user` in on `client` with a session that has passed the second factor.

    The device is a real, confirmed TOTP device; the session is marked as `django_otp.login`
    marks it, so the console and the API see a verified session (tests/accounts cover the pages).
    """
    device = totp_device_confirmed_for(user=user) or totp_device_create(
        user=user, actor=None, source=AuditSource.CLI, confirmed=True
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def verified_client(db: None) -> Callable[[User], Client]:
    """A console client for `user`, signed in with the second factor passed."""

    def make(user: User) -> Client:
        client = Client()
        sign_in_verified(client, user)
        return client

    return make


# --- Every audit event type is asserted by some test ------------------------------------------

TESTS_DIR = Path(__file__).resolve().parent
_WHOLE_SUITE = pytest.StashKey[bool]()
_DESELECTED = pytest.StashKey[int]()
_AUDIT_REPORT = pytest.StashKey[list[str]]()


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        config = items[0].config
        config.stash[_DESELECTED] = config.stash.get(_DESELECTED, 0) + len(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The check runs only when the whole suite was chosen: every test module under tests/
    collected, and nothing deselected (-k, -m, --deselect). A subset asserts only some types."""
    modules = set(TESTS_DIR.rglob("test_*.py"))
    collected = {Path(item.path).resolve() for item in session.items}
    session.config.stash[_WHOLE_SUITE] = (
        not session.config.option.collectonly
        and modules <= collected
        and session.config.stash.get(_DESELECTED, 0) == 0
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not session.config.stash.get(_WHOLE_SUITE, False):
        if not session.config.option.collectonly:
            session.config.stash[_AUDIT_REPORT] = [
                "audit event types: not checked, because only part of the suite was chosen"
            ]
        return
    if exitstatus != pytest.ExitCode.OK or session.testsfailed or session.shouldstop:
        session.config.stash[_AUDIT_REPORT] = [
            "audit event types: not checked, because the run did not pass"
        ]
        return
    missing = unasserted()
    if not missing:
        session.config.stash[_AUDIT_REPORT] = [
            f"audit event types: each of the {len(AuditEventType)} was asserted by a test"
        ]
        return
    session.config.stash[_AUDIT_REPORT] = [
        f"{len(missing)} audit event type(s) were asserted by no test that ran "
        "(tests/audit_helpers.py: assert_audited and its kin record what they assert):",
        *(f"  {t.name} ({t.value})" for t in missing),
    ]
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = config.stash.get(_AUDIT_REPORT, [])
    if report:
        terminalreporter.write_sep("=", "audit event types", red=len(report) > 1)
        for line in report:
            terminalreporter.write_line(line)
