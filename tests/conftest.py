"""Shared fixtures: a vault per test, one account per role, and an API client that sends a token."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.accounts.selectors import totp_device_confirmed_for
from safeguard.accounts.services import api_token_create, totp_device_create
from safeguard.audit.events import AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.cases.models import Case
from safeguard.evidence.models import Blob, ContentItem
from safeguard.intake.models import Escalation, Subject
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def vault_dir(settings: Any, tmp_path: Path) -> Path:
    vault = tmp_path / "vault"
    settings.SAFEGUARD_VAULT_DIR = vault
    return vault


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
