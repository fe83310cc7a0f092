"""Checking a CEL condition before it is used: every name and path it reads must exist in the
triage context, every function must be one the library provides, and it must give a boolean on
sample contexts. Pure: no Django."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import cel

from safeguard.triage.context import CelValue

# The exceptions the CEL library raises for a failed evaluation (its documented mapping: runtime
# errors for undefined names and failing functions, TypeError for missing overloads, plus
# KeyError, IndexError and arithmetic errors for missing keys, bad indexes and overflow).
CEL_ERRORS: Final = (RuntimeError, TypeError, ValueError, KeyError, IndexError, ArithmeticError)


# --- Checking a CEL condition against the context ----------------------------------------------

# Functions and macros this CEL library provides, by how they are called; anything else is an
# "undefined function" at run time. tests/triage/test_policy.py checks each one still works.
GLOBAL_FUNCTIONS: Final = frozenset(
    {
        "has",
        "size",
        "int",
        "uint",
        "double",
        "string",
        "bytes",
        "dyn",
        "type",
        "timestamp",
        "duration",
    }
)
COMPREHENSIONS: Final = frozenset({"all", "exists", "exists_one", "map", "filter"})
METHOD_FUNCTIONS: Final = COMPREHENSIONS | frozenset(
    {
        "size",
        "contains",
        "startsWith",
        "endsWith",
        "matches",
        "getFullYear",
        "getMonth",
        "getDayOfYear",
        "getDayOfMonth",
        "getDate",
        "getDayOfWeek",
        "getHours",
        "getMinutes",
        "getSeconds",
        "getMilliseconds",
    }
)
# Type names are identifiers in CEL (`type(x) == int`), as are the literal keywords.
TYPE_NAMES: Final = frozenset(
    {"int", "uint", "double", "string", "bool", "bytes", "list", "map", "null_type", "type"}
)
_KEYWORDS: Final = frozenset({"true", "false", "null", "in"})

_STRING: Final = (
    r"(?:[bB]?[rR]|[rR][bB])(?:'''.*?'''|\"\"\".*?\"\"\"|'[^'\n]*'|\"[^\"\n]*\")"
    r"|[bB]?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\""
    r"|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\")"
)
_NUMBER: Final = (
    r"0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+[uU]?"
)
_TOKEN: Final = re.compile(
    rf"(?P<space>\s+|//[^\n]*)|(?P<string>{_STRING})|(?P<number>{_NUMBER})"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>&&|\|\||==|!=|<=|>=|[-+*/%!<>?:.,\[\]{}()])",
    re.DOTALL,
)
_PLAIN_STRING: Final = re.compile(r"\"([^\"\\]*)\"|'([^'\\]*)'")
_OPERAND_END: Final = frozenset({")", "]", "}"})


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str


def _tokens(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ValueError(f"cannot read the condition at character {pos + 1}: {source[pos]!r}")
        kind = match.lastgroup
        if kind is None:  # pragma: no cover - every alternative is a named group
            raise AssertionError("unnamed token")
        if kind != "space":
            tokens.append(_Token(kind, match.group()))
        pos = match.end()
    return tokens


def _closing(tokens: Sequence[_Token], opening: int) -> int:
    """Index of the bracket closing the one at `opening` (the library has checked they pair)."""
    depth = 0
    for index in range(opening, len(tokens)):
        text = tokens[index].text if tokens[index].kind == "punct" else ""
        if text in ("(", "[", "{"):
            depth += 1
        elif text in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                return index
    return len(tokens)


def _is(tokens: Sequence[_Token], index: int, kind: str, text: str | None = None) -> bool:
    if index >= len(tokens):
        return False
    token = tokens[index]
    return token.kind == kind and (text is None or token.text == text)


@dataclass(frozen=True, slots=True)
class _Walk:
    """What a condition refers to: variable paths from the context, functions, bound names."""

    paths: tuple[tuple[str, ...], ...]
    global_calls: tuple[str, ...]
    method_calls: tuple[str, ...]
    bound: frozenset[str]
    problems: tuple[str, ...]


def _walk(source: str) -> _Walk:
    """Find every context path (`signals.secrecy.score`, `signals["secrecy"]`) and function.

    The CEL library parses but does not type-check, and reports only top-level names, so this
    reads the token stream: a name not after a dot starts a path, followed through `.field` and
    `["literal"]`; names bound by comprehension macros are skipped inside their parentheses.
    """
    tokens = _tokens(source)
    paths: list[tuple[str, ...]] = []
    global_calls: list[str] = []
    method_calls: list[str] = []
    problems: list[str] = []
    scopes: list[tuple[str, int]] = []
    bound: set[str] = set()
    i = 0
    while i < len(tokens):
        scopes = [(name, end) for name, end in scopes if end > i]
        token = tokens[i]
        if token.kind == "punct" and token.text == ".":
            previous = tokens[i - 1] if i > 0 else None
            after_operand = previous is not None and (
                previous.kind in ("ident", "number", "string") or previous.text in _OPERAND_END
            )
            if not _is(tokens, i + 1, "ident"):
                i += 1
                continue
            name = tokens[i + 1].text
            if not after_operand:
                problems.append(f"leading-dot names such as '.{name}' are not supported")
            elif _is(tokens, i + 2, "punct", "("):
                method_calls.append(name)
                if (
                    name in COMPREHENSIONS
                    and _is(tokens, i + 3, "ident")
                    and _is(tokens, i + 4, "punct", ",")
                ):
                    scopes.append((tokens[i + 3].text, _closing(tokens, i + 2)))
                    bound.add(tokens[i + 3].text)
            # A field of a computed value (a comprehension variable, a call's result) cannot be
            # followed statically; the sample evaluation in compile_policy covers those.
            i += 2
            continue
        if token.kind != "ident" or token.text in _KEYWORDS:
            i += 1
            continue
        if _is(tokens, i + 1, "punct", "("):
            global_calls.append(token.text)
            i += 1
            continue
        if any(name == token.text for name, _ in scopes):
            i += 1
            continue
        path = [token.text]
        j = i + 1
        while True:
            if (
                _is(tokens, j, "punct", ".")
                and _is(tokens, j + 1, "ident")
                and not _is(tokens, j + 2, "punct", "(")
            ):
                path.append(tokens[j + 1].text)
                j += 2
                continue
            if (
                _is(tokens, j, "punct", "[")
                and _is(tokens, j + 1, "string")
                and _is(tokens, j + 2, "punct", "]")
            ):
                literal = _PLAIN_STRING.fullmatch(tokens[j + 1].text)
                if literal is not None:
                    path.append(
                        literal.group(1) if literal.group(1) is not None else literal.group(2)
                    )
                    j += 3
                    continue
            break
        paths.append(tuple(path))
        i = j
    return _Walk(
        paths=tuple(paths),
        global_calls=tuple(global_calls),
        method_calls=tuple(method_calls),
        bound=frozenset(bound),
        problems=tuple(problems),
    )


def _cel_type(value: CelValue) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "map"


# Maps whose keys are open: a platform's classifier labels are its own, so a rule may name any
# (guarded with has(), since a label no model sent is absent); each value has the shape of the
# entries the samples hold.
OPEN_MAPS = frozenset({"classifiers"})


def _check_path(path: Sequence[str], schema: Mapping[str, CelValue]) -> str | None:
    node: CelValue | Mapping[str, CelValue] = schema
    walked: list[str] = []
    for part in path:
        if not isinstance(node, Mapping):
            where = ".".join(walked)
            return f"{where} is a {_cel_type(node)} and has no field {part!r}"
        if part not in node and ".".join(walked) in OPEN_MAPS and node:
            node = next(iter(node.values()))
            walked.append(part)
            continue
        if part not in node:
            if not walked:
                if part in TYPE_NAMES:
                    return None
                return f"unknown name {part!r}; the context has {', '.join(node)}"
            where = ".".join(walked)
            return f"unknown field '{where}.{part}'; {where} has {', '.join(node)}"
        node = node[part]
        walked.append(part)
    return None


def static_problems(source: str, program: cel.Program, schema: Mapping[str, CelValue]) -> list[str]:
    try:
        walk = _walk(source)
    except ValueError as exc:
        return [str(exc)]
    problems = list(walk.problems)
    for path in walk.paths:
        problem = _check_path(path, schema)
        if problem is not None and problem not in problems:
            problems.append(problem)
    for name in walk.global_calls:
        if name not in GLOBAL_FUNCTIONS:
            hint = " (call it as a method, x.name(...))" if name in METHOD_FUNCTIONS else ""
            problems.append(f"unknown function {name}(){hint}")
    for name in walk.method_calls:
        if name not in METHOD_FUNCTIONS:
            hint = " (call it as name(x))" if name in GLOBAL_FUNCTIONS else ""
            problems.append(f"unknown method .{name}(){hint}")
    # The library's own list of top-level names is a second opinion on the token walk: a name it
    # sees that is neither in the context nor bound by a macro is an unknown name either way.
    for name in program.variables():
        # Leading-dot names were reported by the walk already.
        if name.startswith("."):
            continue
        if name not in schema and name not in TYPE_NAMES and name not in walk.bound:
            problem = f"unknown name {name!r}; the context has {', '.join(schema)}"
            if problem not in problems:
                problems.append(problem)
    return problems


def sample_problem(program: cel.Program, samples: Sequence[Mapping[str, CelValue]]) -> str | None:
    for index, sample in enumerate(samples):
        try:
            value = program.execute(dict(sample))
        except CEL_ERRORS as exc:
            return f"fails on sample context {index + 1}: {type(exc).__name__}: {exc}"
        if not isinstance(value, bool):
            return f"must give true or false, but gave {type(value).__name__} {value!r}"
    return None
