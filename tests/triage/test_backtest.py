"""`safeguard triage backtest POLICY.yaml`: stored escalations replayed through a candidate
beside the live policy, the distribution and the cases that move, and nothing written."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from safeguard.audit.models import AuditEvent
from safeguard.cases.models import Case
from safeguard.intake.models import Escalation
from safeguard.triage.models import TriagePolicy, TriageRecord
from tests.conftest import ApiClient, case_of, escalation_body
from tests.triage.test_lifecycle import policy_text
from tests.triage.test_shadow import hotline, run

URL = "/api/v1/escalations"
MODELS = (Escalation, Case, TriageRecord, TriagePolicy, AuditEvent, DBTaskResult)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def candidate(tmp_path: Path) -> Path:
    path = tmp_path / "candidate.yaml"
    path.write_text(policy_text("candidate-1"), encoding="utf-8")
    return path


def test_backtest_prints_the_distribution_and_the_cases_that_move(
    service_api: ApiClient, candidate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    moving = [case_of(service_api.post(URL, hotline(n))) for n in (1, 2)]
    staying = case_of(
        service_api.post(
            URL, escalation_body(external_id="danger-1", category="imminent_danger", content=[])
        )
    )
    live = TriageRecord.objects.get(case=moving[0]).priority
    assert live != "P0"
    before = counts()

    code, out, err = run(capsys, "triage", "backtest", str(candidate), "--since", "30d", "--json")

    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["candidate"] == "candidate-1"
    assert report["escalations"] == 3
    expected_live = {"P0": 1, "P1": 0, "P2": 0, "P3": 0}
    expected_live[live] += 2
    assert report["distribution"]["live"] == expected_live
    assert report["distribution"]["candidate"] == {"P0": 3, "P1": 0, "P2": 0, "P3": 0}
    assert [m["case"] for m in report["moved"]] == [str(c.pk) for c in moving]
    escalation = Escalation.objects.get(case_link__case=moving[0])
    assert report["moved"][0] == {
        "case": str(moving[0].pk),
        "escalation": str(escalation.pk),
        "received_at": escalation.received_at.isoformat(),
        "from": {"priority": live, "queue": moving[0].queue},
        "to": {"priority": "P0", "queue": "emergency"},
        "rules": report["moved"][0]["rules"],
    }
    assert "every_hotline_notice" in report["moved"][0]["rules"]
    assert str(staying.pk) not in out
    assert counts() == before  # read-only: no row and no audit entry more

    code, text, _ = run(capsys, "triage", "backtest", str(candidate))
    assert code == 0
    assert "backtest of candidate-1 against the live policy" in text
    assert "3 escalations received in the last 30d" in text
    assert re.search(r"^\s*P0\s+1\s+3\s+\+2$", text, flags=re.M)
    assert "cases that move: 2" in text
    assert f"case {moving[1].pk}  escalation" in text
    assert counts() == before


def test_the_window_leaves_older_escalations_out(
    service_api: ApiClient, candidate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service_api.post(URL, hotline(1))
    old = case_of(service_api.post(URL, hotline(2)))
    # Escalations are immutable rows; a test moves one back in time with an update.
    Escalation.objects.filter(case_link__case=old).update(
        received_at=timezone.now() - timedelta(days=10)
    )

    _, week, _ = run(capsys, "triage", "backtest", str(candidate), "--since", "7d", "--json")
    _, month, _ = run(capsys, "triage", "backtest", str(candidate), "--since=30d", "--json")

    assert json.loads(week)["escalations"] == 1
    assert json.loads(month)["escalations"] == 2


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--since", "30x"], "'30x' is not a duration"),
        (["--since", "0d"], "must be longer than zero"),
    ],
)
def test_a_bad_window_is_refused(
    db: None, candidate: Path, capsys: pytest.CaptureFixture[str], args: list[str], mentions: str
) -> None:
    code, out, err = run(capsys, "triage", "backtest", str(candidate), *args)

    assert code == 2
    assert out == ""
    assert "--since" in err
    assert mentions in err


def test_a_candidate_that_does_not_compile_is_refused_naming_the_rule(
    service_api: ApiClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service_api.post(URL, hotline(1))
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        policy_text(
            "bad-1",
            "  - name: typo_rule\n    when: 'chanel == \"hotline\"'\n    priority: P0\n"
            "    explain: misspelt\n",
        ),
        encoding="utf-8",
    )
    before = counts()

    code, out, err = run(capsys, "triage", "backtest", str(bad))
    missing, _, missing_err = run(capsys, "triage", "backtest", str(tmp_path / "none.yaml"))

    assert (code, out) == (2, "")
    assert "does not compile" in err
    assert "rule 'typo_rule': when: unknown name 'chanel'" in err
    assert missing == 2
    assert "cannot read" in missing_err
    assert counts() == before
