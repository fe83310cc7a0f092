"""Loading a YAML document someone else wrote (an uploaded policy, a family file) safely: size,
depth, aliases, tags and duplicate keys are checked before a value is built (pure; no Django).

PyYAML's safe loader refuses arbitrary objects but still builds whatever the document describes:
a few hundred bytes of nested aliases ("billion laughs") expand into a structure that takes
seconds or gigabytes to walk, a document nested a few thousand levels deep overflows the
recursive composer, and a repeated key silently replaces the first. Here the document's events
are read first, iteratively, and refused on the first problem; only then is it constructed.
"""

from __future__ import annotations

from typing import Any, Final

import yaml

__all__ = ["MAX_DEPTH", "YamlRefused", "load_untrusted_yaml"]

MAX_DEPTH: Final = 32

_MERGE_TAG: Final = "tag:yaml.org,2002:merge"
# libyaml's parser when it is installed (much faster), else PyYAML's own; both are iterative.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlRefused(ValueError):
    """A YAML document that is refused, with the 1-based line and column of the problem.

    `field` and `detail` are what a caller shows: "<yaml>" and "is not valid YAML (line 2,
    column 1): ..." for a syntax error, "line 6" and "duplicate key 'name' (column 5)" for a
    document that parses but is refused.
    """

    def __init__(
        self,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
        syntax: bool = False,
    ) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        self.syntax = syntax
        super().__init__(f"{self.field}: {self.detail}")

    @property
    def where(self) -> str:
        if self.line is None:
            return ""
        return f"line {self.line}" + (f", column {self.column}" if self.column is not None else "")

    @property
    def field(self) -> str:
        return "<yaml>" if self.syntax or self.line is None else f"line {self.line}"

    @property
    def detail(self) -> str:
        if self.syntax:
            where = f" ({self.where})" if self.where else ""
            return f"is not valid YAML{where}: {self.problem}"
        if self.column is not None:
            return f"{self.problem} (column {self.column})"
        return self.problem


def _at(problem: str, mark: Any, *, syntax: bool = False) -> YamlRefused:
    if mark is None:
        return YamlRefused(problem, syntax=syntax)
    return YamlRefused(problem, line=mark.line + 1, column=mark.column + 1, syntax=syntax)


class _StrictConstructingLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """The safe loader, refusing a mapping that repeats a key or uses a merge key (`<<`)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == _MERGE_TAG:
                raise _at("merge keys (<<) are not allowed", key_node.start_mark)
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                raise _at("a mapping key must be a plain value", key_node.start_mark) from None
            if duplicate:
                raise _at(f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


def _yaml_error(exc: yaml.YAMLError, text: str) -> YamlRefused:
    if isinstance(exc, yaml.MarkedYAMLError):
        problem = exc.problem or "unreadable"
        if exc.context:
            problem = f"{exc.context}: {problem}"
        return _at(problem, exc.problem_mark or exc.context_mark, syntax=True)
    if isinstance(exc, yaml.reader.ReaderError):
        # Raised for characters YAML does not allow (NUL and most other control characters).
        position = exc.position
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        return YamlRefused(str(exc.reason), line=line, column=column, syntax=True)
    return YamlRefused(str(exc), syntax=True)


def _check_events(text: str, max_depth: int) -> None:
    depth = 0
    documents = 0
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.AliasEvent):
            raise _at(f"aliases (*{event.anchor}) are not allowed", event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _at(f"anchors (&{anchor}) are not allowed", event.start_mark)
        if getattr(event, "tag", None) is not None:
            raise _at(f"explicit tags ({event.tag}) are not allowed", event.start_mark)  # type: ignore[attr-defined]
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _at("holds more than one YAML document", event.start_mark)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > max_depth:
                raise _at(f"is nested deeper than {max_depth} levels", event.start_mark)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1


def load_untrusted_yaml(text: str, *, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """Check and load one YAML document; raise YamlRefused saying what and where.

    Refused: more than `max_bytes` of UTF-8, nesting deeper than `max_depth`, anchors and
    aliases, merge keys, explicit tags, more than one document, duplicate keys, and anything
    PyYAML's safe loader refuses. An empty document loads as None.
    """
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise YamlRefused(f"is not valid Unicode ({exc.reason} at character {exc.start})") from None
    if size > max_bytes:
        raise YamlRefused(f"is {size} bytes; the limit is {max_bytes}")
    try:
        _check_events(text, max_depth)
        return yaml.load(text, Loader=_StrictConstructingLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text) from None
