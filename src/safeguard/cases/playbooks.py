"""Playbooks as data: load and check a YAML document of checklists by category and priority, and
choose the steps a case must go through (pure; no Django).

The document maps each intake category to playbooks keyed by priority (P0 to P3) or `any`, the
fallback for priorities the category does not list. A playbook is an ordered list of steps; a
step id names one step everywhere in the document, so a tick on a case means the same thing
whichever playbook listed it.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Any, Final

from safeguard.cases.workflow import Priority
from safeguard.core.errors import Invalid
from safeguard.core.invisible import describe, first_invisible
from safeguard.intake.enums import Category
from safeguard.signals.safe_yaml import YamlRefused, load_untrusted_yaml

__all__ = [
    "ANY",
    "HAND_TICKED_KINDS",
    "MAX_PLAYBOOK_BYTES",
    "PlaybookDocument",
    "PlaybookError",
    "PlaybookProblem",
    "Step",
    "StepKind",
    "compile_playbooks",
    "default_playbooks",
    "default_playbooks_text",
    "playbooks_markdown",
]


class StepKind(StrEnum):
    """What a step does, so that later work can link a step to the real thing it records."""

    # A referral to an outside service: emergency services, law enforcement.
    REFERRAL = "referral"
    # Something done on the platform: remove content, restrict or ban an account.
    PLATFORM_ACTION = "platform_action"
    # A report to an authority (NCMEC's CyberTipline and others).
    REPORT = "report"
    # Something sent to the user: safety resources, a helpline.
    USER_SUPPORT = "user_support"
    # Keeping data: an account's or content's preservation.
    PRESERVATION = "preservation"
    # Anything else a person does and records.
    MANUAL = "manual"


# Until referrals and reports are recorded by Safeguard itself, every step is ticked by a person,
# who says in a note what they did (a reference number, who they spoke to, why it was not
# needed). When a kind is linked to the real record, it leaves this set.
HAND_TICKED_KINDS: Final[frozenset[StepKind]] = frozenset(StepKind)

ANY: Final = "any"
# An uploaded document is read whole before it is checked; the shipped one is under 8 KiB.
MAX_PLAYBOOK_BYTES: Final = 256 * 1024
MAX_STEPS: Final = 50
MAX_TITLE: Final = 200
MAX_DETAIL: Final = 500
MAX_STEP_ID: Final = 64

_TOP_KEYS: Final = ("version", "playbooks")
_STEP_KEYS: Final = ("id", "title", "kind", "required", "detail")
_STEP_REQUIRED: Final = ("id", "title", "kind", "required")
_STEP_ID: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_PRIORITY_KEYS: Final = (*(p.value for p in Priority), ANY)
_CATEGORIES: Final = ", ".join(c.value for c in Category)
_KINDS: Final = ", ".join(k.value for k in StepKind)
_PRIORITY_NAMES: Final = ", ".join(_PRIORITY_KEYS)


# --- Errors ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaybookProblem:
    """One thing wrong with a playbook document: where (a dotted path) and what."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class PlaybookError(Invalid, ValueError):
    """A playbook document cannot be used; lists every problem found, each with its place."""

    def __init__(self, problems: Sequence[PlaybookProblem]) -> None:
        if not problems:
            raise ValueError("a PlaybookError needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _problem(field: str, message: str) -> PlaybookError:
    return PlaybookError([PlaybookProblem(field, message)])


# --- The document ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    title: str
    kind: StepKind
    required: bool
    detail: str = ""

    @property
    def ticked_by_hand(self) -> bool:
        """Whether a person ticks this step with a note (every kind, for now)."""
        return self.kind in HAND_TICKED_KINDS


@dataclass(frozen=True, slots=True)
class Chosen:
    """The steps a case must go through, and which playbooks they came from ("self_harm P0")."""

    steps: tuple[Step, ...]
    sources: tuple[str, ...]

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)


@dataclass(frozen=True, slots=True)
class PlaybookDocument:
    version: str
    # category -> priority key (P0 to P3, or "any") -> steps, in the document's order.
    playbooks: Mapping[Category, Mapping[str, tuple[Step, ...]]]
    # SHA-256 of the YAML text, so two uploads with the same version but different text differ.
    digest: str

    def key_for(self, category: Category, priority: str | None) -> str:
        """The priority key of `category`'s playbook that applies: the priority's own, else
        `any`. An untriaged case (no priority) gets `any`, or P3's when there is no `any`."""
        table = self.playbooks[category]
        if priority and priority in table:
            return priority
        if ANY in table:
            return ANY
        return Priority.P3.value

    def choose(self, categories: Iterable[str], priority: str | None) -> Chosen:
        """The steps for a case with these escalation categories and this priority.

        Several categories give the union of their playbooks, categories in the intake's
        order and steps in each playbook's order; a step listed by more than one appears once,
        where it first appears, and is required if any of them requires it. A case with no
        known category gets `other`'s playbook.
        """
        present = {c for c in categories if c in Category.__members__.values()}
        chosen = [c for c in Category if c.value in present] or [Category.OTHER]
        merged: dict[str, Step] = {}
        sources: list[str] = []
        for category in chosen:
            key = self.key_for(category, priority)
            sources.append(f"{category.value} {key}")
            for step in self.playbooks[category][key]:
                earlier = merged.get(step.id)
                if earlier is None:
                    merged[step.id] = step
                elif step.required and not earlier.required:
                    merged[step.id] = Step(
                        earlier.id, earlier.title, earlier.kind, True, earlier.detail
                    )
        return Chosen(steps=tuple(merged.values()), sources=tuple(sources))


# --- Loading -----------------------------------------------------------------------------------


def _load_yaml(text: str) -> Any:
    try:
        return load_untrusted_yaml(text, max_bytes=MAX_PLAYBOOK_BYTES)
    except YamlRefused as exc:
        raise _problem(exc.field, exc.detail) from None


def _text(value: object, *, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty string, got {value!r}")
    value = value.strip()
    if "\n" in value:
        raise ValueError("must be one line")
    if len(value) > limit:
        raise ValueError(f"must be at most {limit} characters")
    hidden = first_invisible(value)
    if hidden is not None:
        # Titles are read by people under pressure and recorded in the audit log as shown.
        raise ValueError(f"contains {describe(hidden[1])}, which is not allowed here")
    return value


def _parse_step(data: object, where: str) -> tuple[Step | None, list[PlaybookProblem]]:
    if not isinstance(data, Mapping):
        return None, [PlaybookProblem(where, "must be a mapping with id, title, kind, required")]
    problems = [
        PlaybookProblem(f"{where}.{key}", f"unknown key; allowed keys are {', '.join(_STEP_KEYS)}")
        for key in data
        if key not in _STEP_KEYS
    ]
    problems += [
        PlaybookProblem(f"{where}.{key}", "is missing") for key in _STEP_REQUIRED if key not in data
    ]
    if problems:
        return None, problems
    step_id = data["id"]
    if not isinstance(step_id, str) or _STEP_ID.fullmatch(step_id) is None:
        problems.append(
            PlaybookProblem(
                f"{where}.id",
                f"must be a slug of lower-case letters, digits and '-' (starting with a letter "
                f"or digit, at most {MAX_STEP_ID} characters), got {step_id!r}",
            )
        )
    title = detail = None
    try:
        title = _text(data["title"], limit=MAX_TITLE)
    except ValueError as exc:
        problems.append(PlaybookProblem(f"{where}.title", str(exc)))
    if data.get("detail") is not None:
        try:
            detail = _text(data["detail"], limit=MAX_DETAIL)
        except ValueError as exc:
            problems.append(PlaybookProblem(f"{where}.detail", str(exc)))
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in StepKind.__members__.values():
        problems.append(PlaybookProblem(f"{where}.kind", f"{kind!r} is not one of {_KINDS}"))
    required = data["required"]
    if not isinstance(required, bool):
        problems.append(
            PlaybookProblem(f"{where}.required", f"must be true or false, got {required!r}")
        )
    if problems or title is None:
        return None, problems
    return Step(str(step_id), title, StepKind(kind), required, detail or ""), []


def _parse_playbook(data: object, where: str) -> tuple[tuple[Step, ...], list[PlaybookProblem]]:
    if not isinstance(data, list):
        return (), [PlaybookProblem(where, "must be a list of steps")]
    if len(data) > MAX_STEPS:
        return (), [PlaybookProblem(where, f"has {len(data)} steps; at most {MAX_STEPS}")]
    steps: list[Step] = []
    problems: list[PlaybookProblem] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(data):
        step, step_problems = _parse_step(raw, f"{where}[{index}]")
        problems += step_problems
        step_id = raw.get("id") if isinstance(raw, Mapping) else None
        if isinstance(step_id, str):
            if step_id in seen:
                problems.append(
                    PlaybookProblem(
                        f"{where}[{index}].id",
                        f"duplicate step id {step_id!r}: {where}[{seen[step_id]}] has it too",
                    )
                )
            else:
                seen[step_id] = index
        if step is not None:
            steps.append(step)
    return tuple(steps), problems


def _parse_category(
    name: str, data: object
) -> tuple[dict[str, tuple[Step, ...]], list[PlaybookProblem]]:
    where = f"playbooks.{name}"
    if not isinstance(data, Mapping) or not data:
        return {}, [
            PlaybookProblem(where, f"must map priorities ({_PRIORITY_NAMES}) to lists of steps")
        ]
    table: dict[str, tuple[Step, ...]] = {}
    problems: list[PlaybookProblem] = []
    for key, raw in data.items():
        if key not in _PRIORITY_KEYS:
            problems.append(
                PlaybookProblem(
                    f"{where}.{key}", f"is not a priority; use one of {_PRIORITY_NAMES}"
                )
            )
            continue
        steps, step_problems = _parse_playbook(raw, f"{where}.{key}")
        problems += step_problems
        table[key] = steps
    if not problems and ANY not in table:
        missing = [p.value for p in Priority if p.value not in table]
        if missing:
            problems.append(
                PlaybookProblem(
                    where,
                    f"has no playbook for {', '.join(missing)}: add them, or an `any` playbook "
                    "for the priorities not listed",
                )
            )
    # Listed in priority order whatever the document's order, so the docs read the same.
    ordered = {key: table[key] for key in _PRIORITY_KEYS if key in table}
    return ordered, problems


def _check_consistent(
    playbooks: Mapping[Category, Mapping[str, tuple[Step, ...]]],
) -> list[PlaybookProblem]:
    """A step id means one step: the same title and kind wherever it is listed."""
    first: dict[str, tuple[str, Step]] = {}
    problems: list[PlaybookProblem] = []
    for category, table in playbooks.items():
        for key, steps in table.items():
            for index, step in enumerate(steps):
                where = f"playbooks.{category.value}.{key}[{index}]"
                if step.id not in first:
                    first[step.id] = (where, step)
                    continue
                there, earlier = first[step.id]
                differs = [
                    name
                    for name, mine, theirs in (
                        ("title", step.title, earlier.title),
                        ("kind", step.kind, earlier.kind),
                    )
                    if mine != theirs
                ]
                if differs:
                    problems.append(
                        PlaybookProblem(
                            f"{where}.id",
                            f"step {step.id!r} has a different {' and '.join(differs)} at "
                            f"{there}; a step id names one step everywhere (use another id)",
                        )
                    )
    return problems


def compile_playbooks(yaml_text: str) -> PlaybookDocument:
    """Check a whole document; raise PlaybookError listing every problem found.

    Every category the intake accepts must have a playbook for every priority (its own, or
    `any`), so that no case is left without a checklist.
    """
    data = _load_yaml(yaml_text)
    if not isinstance(data, Mapping):
        raise _problem("<document>", "must be a mapping with version and playbooks")
    top = [
        PlaybookProblem(str(key), f"unknown key; allowed keys are {', '.join(_TOP_KEYS)}")
        for key in data
        if key not in _TOP_KEYS
    ]
    top += [PlaybookProblem(key, "is missing") for key in _TOP_KEYS if key not in data]
    if top:
        raise PlaybookError(top)
    version = data["version"]
    if not isinstance(version, str) or not version.strip() or len(version) > 100:
        raise _problem("version", f"must be a non-empty string (quote numbers), got {version!r}")
    hidden = first_invisible(version)
    if hidden is not None:
        # The version names the document in the audit log and on every tick; it must read as
        # stored.
        raise _problem("version", f"contains {describe(hidden[1])}, which a version may not")
    raw = data["playbooks"]
    if not isinstance(raw, Mapping):
        raise _problem("playbooks", f"must map categories ({_CATEGORIES}) to playbooks")
    problems: list[PlaybookProblem] = [
        PlaybookProblem(f"playbooks.{key}", f"is not a category; use one of {_CATEGORIES}")
        for key in raw
        if key not in Category.__members__.values()
    ]
    playbooks: dict[Category, Mapping[str, tuple[Step, ...]]] = {}
    for category in Category:
        if category.value not in raw:
            problems.append(
                PlaybookProblem(
                    f"playbooks.{category.value}",
                    "is missing: every category needs a playbook (an empty `any: []` says it "
                    "has no steps)",
                )
            )
            continue
        table, category_problems = _parse_category(category.value, raw[category.value])
        problems += category_problems
        playbooks[category] = MappingProxyType(table)
    if not problems:
        problems = _check_consistent(playbooks)
    if problems:
        raise PlaybookError(problems)
    return PlaybookDocument(
        version=version.strip(),
        playbooks=MappingProxyType(playbooks),
        digest=hashlib.sha256(yaml_text.encode("utf-8")).hexdigest(),
    )


def default_playbooks_text() -> str:
    """The YAML of the playbooks shipped with Safeguard (safeguard/cases/default_playbooks.yaml)."""
    resource = importlib.resources.files("safeguard.cases").joinpath("default_playbooks.yaml")
    return resource.read_text(encoding="utf-8")


@cache
def default_playbooks() -> PlaybookDocument:
    """The shipped playbooks, checked once per process."""
    return compile_playbooks(default_playbooks_text())


# --- The document for people -------------------------------------------------------------------

_INTRO: Final = """\
A playbook is the checklist of steps the team's process requires for a case, by the category of
its escalations and its priority. It is shown on the case page (and at
`GET /api/v1/cases/{id}/playbook`), and each step is ticked there by the person who did it.

- **Versioned data.** The playbooks are one YAML document with a `version`
  (`src/safeguard/cases/default_playbooks.yaml` is the built-in one). An administrator
  (`cases:playbook:manage`) uploads a new version with `safeguard playbooks activate FILE` or
  `POST /api/v1/playbooks`; `safeguard playbooks check FILE` checks one without saving it. A
  document with any problem is refused whole, each problem named by its place
  (`playbooks.self_harm.P0[2].kind: ...`). A version, once uploaded, keeps its text; a change
  needs a new version. Activation is audited (`playbook.activated`).
- **Choosing.** Each category lists playbooks for priorities `P0` to `P3`, or `any` for the
  priorities it does not list; every category must cover every priority. A case whose
  escalations have several categories gets the union of their playbooks: categories in the
  order below, steps in each playbook's order, a step listed twice shown once (required if
  either requires it). A step id names one step everywhere, with the same title and kind.
- **Ticking.** A step is ticked once per case, by someone who works the case
  (`cases:case:review`), with who and when recorded and an audit event
  (`playbook.step_ticked`). Until referrals and reports are recorded by Safeguard itself, every
  step is ticked by hand with a note saying what was done (a reference number, the service
  contacted) or why it was not needed ("no report required: no apparent child sexual abuse
  material"). The tick records the playbook version it was made under; a step ticked under an
  earlier version that the one in force no longer lists stays on the case's record. A closed
  case's steps are not ticked; a lead reopens it first.
- **Closing.** A case cannot be closed while a required step is unticked. A lead
  (`cases:case:assign`) may close it anyway with a reason; the reason and the steps skipped
  are audited (`playbook.steps_waived`).

The case lifecycle these steps sit in is drawn in [process/case.md](process/case.md).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def playbooks_markdown(document: PlaybookDocument, *, source_name: str) -> str:
    """All of docs/playbooks.md, generated; a test fails when the committed copy differs."""
    lines = [
        "# Playbooks",
        "",
        f"<!-- Generated by `safeguard diagrams` from {source_name}. Do not edit by hand. -->",
        "",
        _INTRO,
        f"## The built-in playbooks (version `{document.version}`)",
        "",
    ]
    for category, table in document.playbooks.items():
        lines += [f"### {category.value}", ""]
        for key, steps in table.items():
            heading = "any other priority" if key == ANY else key
            if len(table) == 1 and key == ANY:
                heading = "every priority"
            lines += [f"**{heading}**", ""]
            if not steps:
                lines += ["No steps.", ""]
                continue
            lines += ["| # | step | id | kind | required |", "|---|---|---|---|---|"]
            for number, step in enumerate(steps, start=1):
                title = _cell(step.title) + (f" — {_cell(step.detail)}" if step.detail else "")
                required = "yes" if step.required else "no"
                lines.append(
                    f"| {number} | {title} | `{step.id}` | {step.kind.value} | {required} |"
                )
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
