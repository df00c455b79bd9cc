"""The project's one YAML reader: YAML 1.2's core schema on PyYAML, and limits a hostile file cannot pass.

PyYAML implements YAML 1.1, whose plain scalars surprise: `1:40` is the base-60 number 100, `2e2` and
`1e308` are text (no dot), `010` is 8, `yes`/`on` are true, `2024-01-01` a date, and `<<` merges
mappings. YAML 1.2's core schema (yaml.org/spec/1.2.2, 10.3) reads `2e2` as 200 and `1:40` as text;
its resolvers are fixed here, once, for every YAML file the project reads: scenarios, studies, targets,
fits and the shipped tables. A number is a number, everything else stays text for the schema to judge.

The loader also refuses duplicate keys (PyYAML keeps the last), aliases (a "billion laughs" file expands
a few hundred bytes into gigabytes) and deep nesting, and says what is wrong in its own words, not
PyYAML's: `parse` raises YamlError with the line and column.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

MAX_DEPTH = 32          # nesting of mappings and lists; our files need 4
MAX_KEY = 1024          # characters of a key: YAML's own limit of an implicit key


class YamlError(ValueError):
    """A file that is not valid YAML for us; str() is `line L, column C: problem`."""

    def __init__(self, problem: str, mark=None):
        self.problem = problem
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        super().__init__(where + problem)


class Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema resolvers and the limits of the module docstring."""

    yaml_implicit_resolvers: dict = {}    # our own table, not SafeLoader's (YAML 1.1's)

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise YamlError(f"alias *{self.peek_event().anchor}: aliases are not allowed; write the value out",
                            self.peek_event().start_mark)
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlError(f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_CORE = [   # (tag, pattern, first characters): YAML 1.2.2, 10.3.2 (core schema tag resolution)
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
              r"|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$", list("-+.0123456789")),
]
for _tag, _pattern, _first in _CORE:
    Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), _first)


def _int(loader: Loader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text)                       # decimal, also with leading zeros (`010` is 10, not 8)


def _float(loader: Loader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    return math.nan if text == ".nan" else float(text)


def _mapping(loader: Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, str) and len(key) > MAX_KEY:
            raise YamlError(f"a key of {len(key):,} characters; keys hold at most {MAX_KEY}", key_node.start_mark)
        if key in seen:
            raise YamlError(f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


Loader.add_constructor("tag:yaml.org,2002:int", _int)
Loader.add_constructor("tag:yaml.org,2002:float", _float)
Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)

# PyYAML's words for what went wrong, in ours (the scanner's and parser's messages name its internals).
_WORDS = [
    ("could not find expected ':'", f"a key without ':' after it, or longer than {MAX_KEY} characters"),
    ("found character '\\t' that cannot start any token", "a tab where YAML wants spaces for indenting"),
    ("mapping values are not allowed here", "a ':' where no key can start (quote text that holds ': ')"),
    ("found undefined tag handle", "an unknown '!' tag"),
    ("could not determine a constructor for the tag", "a '!' tag that is not allowed here"),
    ("expected <block end>, but found", "the indentation does not line up"),
    ("found unexpected end of stream", "the file ends inside a quoted text or bracket"),
]


def parse(text: str) -> Any:
    """The YAML document in `text`; YamlError (line, column, problem in our words) if it is not one.

    libyaml's parser (C) reads a file that passes the limits (checked first, on its event stream) ten
    times faster than PyYAML's (targets.yaml: 0.4 s of every command); the same resolvers and constructors
    make the values. Anything it refuses, and any file without libyaml, goes through PyYAML's own parser,
    whose error this function reports.
    """
    if _FastLoader is not None and _within_limits(text):
        try:
            return yaml.load(text, Loader=_FastLoader)  # noqa: S506 (SafeConstructor with our tables)
        except (yaml.YAMLError, RecursionError):
            pass                               # reported below, in PyYAML's words turned into ours
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 (a SafeLoader subclass)
    except YamlError:
        raise
    except yaml.YAMLError as error:
        problem = str(getattr(error, "problem", None) or "not valid YAML")
        problem = next((ours for theirs, ours in _WORDS if problem.startswith(theirs)), problem)
        raise YamlError(problem, getattr(error, "problem_mark", None)) from None
    except RecursionError:
        raise YamlError(f"nested more than {MAX_DEPTH} levels deep") from None


def _within_limits(text: str) -> bool:
    """No alias, no nesting deeper than MAX_DEPTH, one document: libyaml's events (C, no recursion)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.AliasEvent):
                return False
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return False
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return False
    return True


if getattr(yaml, "__with_libyaml__", False):
    from yaml.cyaml import CParser

    class _FastLoader(CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """libyaml's parser with Loader's resolvers and constructors (its composer is libyaml's: the
        limits are checked before, by `_within_limits`)."""

        yaml_implicit_resolvers = Loader.yaml_implicit_resolvers
        yaml_constructors = Loader.yaml_constructors

        def __init__(self, stream):
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
else:
    _FastLoader = None


def read_shipped(path: Path) -> Any:
    """A YAML file that ships with the project (fits, texts, tables), read by the same rules."""
    return parse(Path(path).read_text(encoding="utf-8"))
