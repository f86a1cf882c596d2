"""Which runs a filter keeps: the run query of core/query.py (or a regex) matched against runs.

Owns: `RunInfo` (what a query reads of a run, each part read only when asked), `InfoCache` (that,
kept per run version), `predicate` (a query tree compiled once into one function) and `matches`
(the same by walking the tree: the reference), `RunFilter` and `compile_filter` (text -> every
run, a regex searched in the name, or a query; see core/query.py for the rule and the language).
Must not import: textual, rich, tuiboard.headless (run statuses come in as a function),
tuiboard.ui, tuiboard.render.
"""

from __future__ import annotations

import fnmatch
import functools
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tuiboard.core.query import (
    REGEX_PREFIX,
    And,
    Compare,
    Node,
    Not,
    Or,
    QueryError,
    Word,
    is_query,
    parse,
    uses_status,
)

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run


def _no_statuses(run: Run) -> frozenset[str]:
    return frozenset()


@dataclass(slots=True)
class RunInfo:
    """A run as a query sees it; every part is read from the run the first time it is asked
    (a name-only query over 10,000 runs never reads a config or computes a status)."""

    run: Run
    statuses_of: Callable[[Run], Collection[str]] = _no_statuses
    """The run's statuses (headless/health.py's assess); the default knows none."""
    _texts: tuple[str, ...] | None = field(default=None, repr=False)
    _blob: str | None = field(default=None, repr=False)
    _tags: tuple[str, ...] | None = field(default=None, repr=False)
    _data_tags: frozenset[str] | None = field(default=None, repr=False)
    _config: dict[str, Any] | None = field(default=None, repr=False)
    _statuses: frozenset[str] | None = field(default=None, repr=False)

    def texts(self) -> tuple[str, ...]:
        """Case-folded name, display name, tags and notes (bare words search these)."""
        if self._texts is None:
            meta = self.run.meta
            parts = (self.run.name, meta.display_name, *meta.tags, meta.notes)
            self._texts = tuple(p.casefold() for p in parts if p)
        return self._texts

    def blob(self) -> str:
        """`texts()` joined by NUL: one substring search finds a word in any of them."""
        if self._blob is None:
            self._blob = "\0".join(self.texts())
        return self._blob

    def names(self) -> tuple[str, ...]:
        meta = self.run.meta
        return (self.run.name, meta.display_name) if meta.display_name else (self.run.name,)

    def tags(self) -> tuple[str, ...]:
        if self._tags is None:
            self._tags = tuple(t.casefold() for t in self.run.meta.tags)
        return self._tags

    def data_tags(self) -> frozenset[str]:
        if self._data_tags is None:
            self._data_tags = frozenset(t for tags in self.run.kinds().values() for t in tags)
        return self._data_tags

    def config(self) -> dict[str, Any]:
        if self._config is None:
            self._config = self.run.config
        return self._config

    def statuses(self) -> frozenset[str]:
        if self._statuses is None:
            self._statuses = frozenset(s.lower() for s in self.statuses_of(self.run))
        return self._statuses


class InfoCache:
    """RunInfo of each run, kept while the run's version stays (the loader moves it for any
    change: data, config, run facts), so a filter worked out again after a store change reads
    only the runs that changed. Statuses move with the clock too: `new_clock` forgets them."""

    def __init__(self, statuses_of: Callable[[Run], Collection[str]] = _no_statuses) -> None:
        self.statuses_of = statuses_of
        self._infos: dict[str, tuple[Run, int, RunInfo]] = {}

    def info(self, run: Run) -> RunInfo:
        hit = self._infos.get(run.name)
        version = run.version
        if hit is not None and hit[0] is run and hit[1] == version:
            return hit[2]
        info = RunInfo(run, self.statuses_of)
        self._infos[run.name] = (run, version, info)
        return info

    def new_clock(self) -> None:
        for _, _, info in self._infos.values():
            info._statuses = None

    def retain(self, names: Collection[str]) -> None:
        """Forget the runs not among `names` (they went away)."""
        if len(self._infos) > len(names):
            for gone in set(self._infos) - set(names):
                del self._infos[gone]


def _is_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


@functools.lru_cache(maxsize=1024)
def _glob(pattern: str, fold: bool) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern.casefold() if fold else pattern), re.DOTALL)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            v = float(value.strip())
        except ValueError:
            return None
        return v
    return None


def _text_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def config_value(config: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    """(found, value) of `cfg.KEY`: the key as typed, else its dots read as core/config.py's
    "/" joins."""
    if key in config:
        return True, config[key]
    slashed = key.replace(".", "/")
    if slashed in config:
        return True, config[slashed]
    return False, None


def compare_value(value: Any, op: str, wanted: str) -> bool:
    """`value OP wanted`: as numbers when both are numbers (NaN never matches but for !=),
    else as case-folded text."""
    a, b = _number(value), _number(wanted)
    if a is not None and b is not None:
        if op == "=":
            return a == b
        if op == "!=":
            return a != b
        if math.isnan(a) or math.isnan(b):
            return False
        left: float | str = a
        right: float | str = b
    else:
        left, right = _text_of(value).casefold(), wanted.casefold()
        if op == "=":
            return left == right
        if op == "!=":
            return left != right
    if op == "<":
        return left < right  # type: ignore[operator]
    if op == "<=":
        return left <= right  # type: ignore[operator]
    if op == ">":
        return left > right  # type: ignore[operator]
    return left >= right  # type: ignore[operator]


Predicate = Callable[[RunInfo], bool]


def predicate(node: Node) -> Predicate:
    """The query as one function of a RunInfo, built once (no dispatch on node types per run);
    `predicate(node)(info) == matches(node, info)`."""
    if isinstance(node, Word):
        w = node.text.casefold()
        if not w:
            return lambda info: True
        if "\0" in w:
            return lambda info: any(w in t for t in info.texts())
        return lambda info: w in info.blob()
    if isinstance(node, And):
        parts = tuple(predicate(c) for c in node.children)
        return lambda info: all(p(info) for p in parts)
    if isinstance(node, Or):
        parts = tuple(predicate(c) for c in node.children)
        return lambda info: any(p(info) for p in parts)
    if isinstance(node, Not):
        inner = predicate(node.child)
        return lambda info: not inner(info)
    if isinstance(node, Compare):
        key, op, value = node.key, node.op, node.value
        return lambda info: _compare(info, key, op, value)
    name, value = node.name, node.value
    if name == "tag":
        if _is_glob(value):
            rx = _glob(value, True)
            return lambda info: any(rx.match(t) for t in info.tags())
        v = value.casefold()
        return lambda info: v in info.tags()
    if name == "name":
        if _is_glob(value):
            rx = _glob(value, True)
            return lambda info: any(rx.match(n.casefold()) for n in info.names())
        v = value.casefold()
        return lambda info: any(v in n.casefold() for n in info.names())
    if name == "has":
        if _is_glob(value):
            rx = _glob(value, False)
            return lambda info: any(rx.match(t) for t in info.data_tags())
        return lambda info: value in info.data_tags()
    v = value.casefold()
    return lambda info: v in info.statuses()


def _compare(info: RunInfo, key: str, op: str, value: str) -> bool:
    found, have = config_value(info.config(), key)
    return found and compare_value(have, op, value)


def matches(node: Node, info: RunInfo) -> bool:
    """Whether the run `info` describes satisfies the query `node` (the reference for
    `predicate`, which the filters use)."""
    if isinstance(node, Word):
        w = node.text.casefold()
        return any(w in t for t in info.texts()) if w else True
    if isinstance(node, And):
        return all(matches(c, info) for c in node.children)
    if isinstance(node, Or):
        return any(matches(c, info) for c in node.children)
    if isinstance(node, Not):
        return not matches(node.child, info)
    if isinstance(node, Compare):
        found, value = config_value(info.config(), node.key)
        return found and compare_value(value, node.op, node.value)
    name, value = node.name, node.value
    if name == "tag":
        if _is_glob(value):
            rx = _glob(value, True)
            return any(rx.match(t) for t in info.tags())
        return value.casefold() in info.tags()
    if name == "name":
        if _is_glob(value):
            rx = _glob(value, True)
            return any(rx.match(n.casefold()) for n in info.names())
        v = value.casefold()
        return any(v in n.casefold() for n in info.names())
    if name == "has":
        if _is_glob(value):
            rx = _glob(value, False)
            return any(rx.match(t) for t in info.data_tags())
        return value in info.data_tags()
    return value.casefold() in info.statuses()


# --- the filter -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunFilter:
    """A run filter as typed: everything (empty text), a regex searched in the run name, or a
    query. Build it with `compile_filter`; match with `matches(run)` or `select(runs)`."""

    text: str
    regex: re.Pattern[str] | None = None
    query: Node | None = None
    statuses_of: Callable[[Run], Collection[str]] = _no_statuses
    test: Predicate | None = field(default=None, compare=False, repr=False)
    """`predicate(query)`, built by compile_filter."""

    @property
    def everything(self) -> bool:
        return self.regex is None and self.query is None

    @property
    def uses_status(self) -> bool:
        return self.query is not None and uses_status(self.query)

    def matches(self, run: Run, cache: InfoCache | None = None) -> bool:
        """Whether the filter keeps `run` (with `cache`: what it read of the run before, while
        the run's version is the same; the cache's statuses_of is used then)."""
        if self.query is not None:
            info = cache.info(run) if cache is not None else RunInfo(run, self.statuses_of)
            test = self.test if self.test is not None else predicate(self.query)
            return test(info)
        return self.regex is None or self.regex.search(run.name) is not None

    def select(self, runs: Iterable[Run], cache: InfoCache | None = None) -> list[Run]:
        """The runs that match, in their order."""
        if self.query is None and self.regex is None:
            return list(runs)
        if self.query is not None:
            test = self.test if self.test is not None else predicate(self.query)
            if cache is not None:
                return [r for r in runs if test(cache.info(r))]
            statuses_of = self.statuses_of
            return [r for r in runs if test(RunInfo(r, statuses_of))]
        regex = self.regex
        assert regex is not None
        return [r for r in runs if regex.search(r.name) is not None]


def compile_filter(
    text: str,
    *,
    ignore_case: bool = False,
    lenient_regex: bool = False,
    statuses: Collection[str] | None = None,
    statuses_of: Callable[[Run], Collection[str]] = _no_statuses,
) -> RunFilter:
    """The RunFilter of `text` (module docstring: regex or query). A bad query raises
    QueryError; so does a bad regex, unless `lenient_regex`, when it is searched literally
    (TensorBoard's run filter while one types). `ignore_case`: for the regex (queries always
    ignore case where the docstring says)."""
    if not text.strip():
        return RunFilter(text)
    if is_query(text):
        query = parse(text, statuses=statuses)
        return RunFilter(text, query=query, statuses_of=statuses_of, test=predicate(query))
    body = text[len(REGEX_PREFIX) :] if text.startswith(REGEX_PREFIX) else text
    offset = len(text) - len(body)
    flags = re.IGNORECASE if ignore_case else 0
    try:
        regex = re.compile(body, flags)
    except (re.error, RecursionError, OverflowError) as e:
        # re.compile recurses per nesting level and refuses huge repeat counts by raising
        if lenient_regex:
            regex = re.compile(re.escape(body), flags)
        elif isinstance(e, re.error):
            raise QueryError(f"bad regex: {e.msg}", offset + (e.pos or 0)) from None
        else:
            raise QueryError(f"bad regex: {e}", offset) from None
    return RunFilter(text, regex=regex)
