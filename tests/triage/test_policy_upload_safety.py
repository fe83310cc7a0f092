"""Hostile YAML uploaded as the triage policy: refused fast with a 422 naming where, and the
policy in force is unchanged.

The same reader loads the indicator families (safeguard.signals.safe_yaml), so the families'
loader is checked here against the same documents.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguard.accounts.permissions import Role
from safeguard.signals.indicators import FamilyFileError, load_family_file
from safeguard.signals.safe_yaml import load_untrusted_yaml
from safeguard.triage.models import TriagePolicy
from safeguard.triage.policy import MAX_POLICY_BYTES
from safeguard.triage.services import default_policy_source
from tests.audit_helpers import last_event_id
from tests.conftest import ApiClient

URL = "/api/v1/triage/policy"


def _laughs(levels: int = 9) -> str:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        refs = ", ".join([f"*lol{i - 1}"] * 9)
        lines.append(f"lol{i}: &lol{i} [{refs}]")
    return 'version: "laughs"\nrules: []\n' + "\n".join(lines) + "\n"


def _valid(version: str) -> str:
    return default_policy_source().replace('version: "default-2"', f'version: "{version}"')


HOSTILE = [
    # libyaml refuses this itself (at its own limit of 1,000 levels), before the reader's bound.
    ("flow nesting 5,000 deep", 'version: "d"\nrules: ' + "[" * 5000 + "]" * 5000, "nest"),
    (
        "block nesting 40 deep",
        'version: "d"\nrules: []\nx:\n' + "".join("  " * i + "k:\n" for i in range(1, 41)),
        "nested deeper than 32",
    ),
    ("billion laughs", _laughs(), "anchors (&lol0) are not allowed"),
    ("an alias", 'version: "a"\nrules: []\nsla: &s {P0: 15m}\nwarn_at: *s\n', "anchors"),
    ("a bare alias", 'version: "a"\nrules: *nothing\n', "alias"),
    ("a merge key", 'version: "m"\nrules: []\ndefault:\n  <<: {priority: P3}\n', "merge keys"),
    ("an explicit tag", 'version: !!str "t"\nrules: []\n', "explicit tags"),
    ("a python tag", 'version: "t"\nrules: !!python/object/apply:os.system ["true"]\n', "tags"),
    ("two documents", 'version: "t"\nrules: []\n---\nversion: "u"\n', "more than one"),
    ("a duplicate key", 'version: "t"\nrules: []\nrules: []\n', "duplicate key 'rules'"),
    ("a duplicate integer key", 'version: "t"\nrules: []\nsla:\n  1: 1h\n  0x1: 2h\n', "dupl"),
    ("a NUL", 'version: "t"\nrules: []\n# \x07\n', "control characters"),
    ("unterminated", 'version: "t"\nrules: [\n', "is not valid YAML"),
    ("bidi in the version", 'version: "v\u202e1"\nrules: []\n', "U+202E"),
]


@pytest.mark.parametrize(("name", "source", "mentions"), HOSTILE)
def test_a_hostile_policy_is_refused_fast_and_changes_nothing(
    api_for: Callable[[Role], ApiClient], name: str, source: str, mentions: str
) -> None:
    admin = api_for(Role.ADMIN)
    events = last_event_id()

    # The fastest of three tries (a refusal changes nothing, so it can be repeated): on a
    # shared machine other processes only ever add time.
    elapsed = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        response = Client().put(
            URL,
            data=json.dumps({"source": source}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {admin.token}"},
        )
        elapsed = min(elapsed, time.perf_counter() - started)

    assert response.status_code == 422, (name, response.content[:400])
    assert response["Content-Type"].startswith("application/json")
    assert mentions in response.json()["detail"], (name, response.json())
    assert elapsed < 1.0, f"{name} took {elapsed:.2f} s"
    assert not TriagePolicy.objects.exists()
    assert last_event_id() == events
    assert admin.get(URL).json()["version"] == "default-2"


@pytest.mark.parametrize(
    ("source", "line", "column"),
    [
        ('version: "a"\nrules: []\nsla: &s {P0: 15m}\n', 3, 6),
        ('version: "t"\nrules: []\nrules: []\n', 3, 1),
        # The document's own mapping is the first level, so the 32nd bracket is the 33rd level.
        ('version: "d"\nrules: ' + "[" * 40 + "]" * 40, 2, 39),
        ('version: "t"\nrules: [\n', 3, 1),
    ],
)
def test_the_refusal_names_the_line_and_column(
    api_for: Callable[[Role], ApiClient], source: str, line: int, column: int
) -> None:
    admin = api_for(Role.ADMIN)

    response = admin.client.put(
        URL,
        data=json.dumps({"source": source}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {admin.token}"},
    )

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert f"line {line}" in detail, detail
    assert f"column {column}" in detail, detail


def test_an_oversized_policy_is_refused_before_it_is_parsed(
    api_for: Callable[[Role], ApiClient],
) -> None:
    admin = api_for(Role.ADMIN)
    # Under the character limit of the field, over the byte limit of the reader.
    source = _valid("big") + "# " + "é" * (MAX_POLICY_BYTES // 2) + "\n"

    response = admin.client.put(
        URL,
        data=json.dumps({"source": source}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {admin.token}"},
    )

    assert response.status_code == 422
    assert f"the limit is {MAX_POLICY_BYTES}" in response.json()["detail"]
    assert not TriagePolicy.objects.exists()


def test_a_sane_policy_still_uploads(api_for: Callable[[Role], ApiClient]) -> None:
    admin = api_for(Role.ADMIN)

    response = admin.client.put(
        URL,
        data=json.dumps({"source": _valid("sane-1")}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {admin.token}"},
    )

    assert response.status_code == 200, response.content
    assert TriagePolicy.objects.get(active=True).version == "sane-1"


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(depth=st.integers(min_value=33, max_value=5000), kind=st.sampled_from(["[", "{"]))
def test_any_nesting_over_the_bound_is_refused(
    api_for: Callable[[Role], ApiClient], depth: int, kind: str
) -> None:
    admin = api_for(Role.ADMIN)
    nested = "[" * depth + "]" * depth if kind == "[" else "{a: " * depth + "1" + "}" * depth

    response = admin.client.put(
        URL,
        data=json.dumps({"source": f'version: "n"\nrules: []\nx: {nested}\n'}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {admin.token}"},
    )

    assert response.status_code == 422
    assert "nest" in response.json()["detail"]  # "nested deeper than 32", or libyaml's limit
    assert not TriagePolicy.objects.exists()


FAMILY = """name: {name}
description: A test family.
threshold: 0.5
groups:
  - name: ask
    weight: 0.5
    phrases: ["how are you"]
"""


@pytest.mark.parametrize(
    ("extra", "mentions"),
    [
        ("x: &a [1]\ny: *a\n", "anchors"),
        ("x: " + "[" * 5000 + "]" * 5000 + "\n", "nest"),
        ("x: " + "[" * 40 + "]" * 40 + "\n", "nested deeper than 32"),
        ("x: !!binary aGk=\n", "explicit tags"),
        ("threshold: 0.6\n", "duplicate key 'threshold'"),
    ],
)
def test_the_family_loader_uses_the_same_safe_reader(
    tmp_path: Path, extra: str, mentions: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(FAMILY.format(name="bad") + extra, encoding="utf-8")

    with pytest.raises(FamilyFileError) as raised:
        load_family_file(path)

    assert mentions in str(raised.value)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(value=yaml_values, flow=st.booleans())
def test_plain_documents_load_as_the_safe_loader_loads_them(value: Any, flow: bool) -> None:
    # What PyYAML writes without anchors (no shared objects) reads as its safe loader reads it;
    # depth in these examples stays well under the bound.
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)

    assert load_untrusted_yaml(text, max_bytes=MAX_POLICY_BYTES) == yaml.safe_load(text)
