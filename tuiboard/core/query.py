"""The run query language of the run filter (`f`) and of `summary/plot/export/compare --runs`.

Owns: the query's tree (`Word`, `Field`, `Compare`, `Not`, `And`, `Or`), `parse` (text ->
tree, once; `QueryError` with the 0-based position of the fault), its printer (`str(tree)`
parses back to an equal tree), `RunInfo` (what a query reads of a run, each part read only when
asked) and `RunFilter` (text -> regex or query, the rule below). Must not import: textual, rich,
tuiboard.headless (run statuses come in as a function), tuiboard.ui, tuiboard.render.

The language (W&B's terminal viewer's search, TensorBoard's regex beside it):
  lr                   a bare word: a case-insensitive substring of the run's name, display
                       name, tags or notes; "two words" quoted (" or ', backslash escapes)
  tag:baseline         a tag of the run (W&B's run tags), case-insensitive; globs * ? [..]
  name:seed*           the run's name or display name: a substring, or a glob matching whole
  has:val/acc          the run has this data tag (any kind: scalars, images, ...); globs
  status:diverged      one of the run's statuses (headless/health.py: diverged, failed,
                       damaged, stalled, finished, live)
  cfg.lr>=1e-3         a config value (config.json/yaml, hparams): = != < <= > >= (== is =);
  cfg.optim.name=adam  numbers compare as numbers, text case-insensitively; nested keys by dots
                       (or "/", as core/config.py flattens them); a run without the key never
                       matches (`-cfg.x=1` finds those too)
  a b   a AND b        both;   a OR b   a | b   either (AND binds tighter)
  -a    NOT a          not;    ( ... )  grouping
Keywords are upper case (AND, OR, NOT); a lower-case "or" is a word.

Regex or query (`RunFilter`): text starting with `re:` is a regex (the rest). Otherwise it is a
query when it holds something only a query has: a `field:` term, a `cfg.` term, a keyword, a
`-` before a term, a quote, or two terms apart by spaces; else it is today's regex on the run
name (TensorBoard's run filter), so `^base`, `lr_0\\.1` and `a|b` keep working.
"""

from __future__ import annotations

import fnmatch
import functools
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run

FIELDS = ("tag", "has", "status", "name")
"""The `field:value` terms (cfg.KEY is the comparison form)."""
OPS = ("!=", "<=", ">=", "==", "=", "<", ">")
"""Longest first: the tokenizer takes the first that fits."""
KEYWORDS = ("AND", "OR", "NOT")
MAX_DEPTH = 64
"""Parentheses and negations nest at most this deep (a query is typed by a person; this bounds
the recursion of parsing, printing and matching)."""
REGEX_PREFIX = "re:"


RUNS_HELP = (
    "only these runs: a regex on the name, or a query (words, tag:x, cfg.lr>=1e-3, "
    "has:val/acc, status:diverged, OR, -x; re:REGEX forces a regex; see the README)"
)
"""The help of every --runs flag."""


class QueryError(ValueError):
    """A query that does not parse: `message` says why, `position` (0-based) where."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at {position + 1})")
        self.message = message
        self.position = position


# --- the tree -----------------------------------------------------------------------------------

_SAFE = re.compile(r"[^\s()|\"'\\=<>!\-][^\s()|\"'\\]*")
_FIELD_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*:|cfg\.", re.IGNORECASE)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _word_text(text: str) -> str:
    """`text` as one term that reads back as itself: bare when safe, else quoted."""
    if _SAFE.fullmatch(text) and text not in KEYWORDS and not _FIELD_LIKE.match(text):
        return text
    return _quote(text)


def _value_text(text: str) -> str:
    return text if _SAFE.fullmatch(text) else _quote(text)


@dataclass(frozen=True, slots=True)
class Word:
    """A bare word: a substring of the name, display name, tags or notes."""

    text: str

    def __str__(self) -> str:
        return _word_text(self.text)


@dataclass(frozen=True, slots=True)
class Field:
    """`name:value` for a name in FIELDS."""

    name: str
    value: str

    def __str__(self) -> str:
        return f"{self.name}:{_value_text(self.value)}"


@dataclass(frozen=True, slots=True)
class Compare:
    """`cfg.KEY OP VALUE`; `key` as typed (dots), `op` one of = != < <= > >=."""

    key: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"cfg.{self.key}{self.op}{_value_text(self.value)}"


@dataclass(frozen=True, slots=True)
class Not:
    child: Node

    def __str__(self) -> str:
        return "-" + _atom(self.child)


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]
    """Two or more."""

    def __str__(self) -> str:
        return " ".join(_atom(c) for c in self.children)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]
    """Two or more."""

    def __str__(self) -> str:
        return " OR ".join(f"({c})" if isinstance(c, Or) else str(c) for c in self.children)


Node: TypeAlias = Word | Field | Compare | Not | And | Or


def _atom(node: Node) -> str:
    return f"({node})" if isinstance(node, And | Or) else str(node)


# --- tokens -------------------------------------------------------------------------------------

_SPECIAL = "()|\"'"


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    """"(" ")" "|" "-" "word" "quoted"."""
    text: str
    pos: int
    glued: bool
    """No space before it (a quoted value right after `tag:` or `cfg.x=`)."""


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    glued = False
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            glued = False
            continue
        start = i
        if c in "()|":
            out.append(_Token(c, c, i, glued))
            i += 1
        elif c in "\"'":
            i += 1
            chars: list[str] = []
            while i < n and text[i] != c:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise QueryError("unterminated quote", start)
            i += 1
            out.append(_Token("quoted", "".join(chars), start, glued))
        elif c == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in ")|":
            at_term_start = not out or not glued or out[-1].kind in ("(", "|", "-")
            if at_term_start:
                out.append(_Token("-", "-", i, glued))
                i += 1
            else:
                i = _word_end(text, i)
                out.append(_Token("word", text[start:i], start, glued))
        else:
            i = _word_end(text, i)
            out.append(_Token("word", text[start:i], start, glued))
        glued = True
    return out


def _word_end(text: str, i: int) -> int:
    n = len(text)
    while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
        i += 1
    return i


# --- parsing ------------------------------------------------------------------------------------

_FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(.*)", re.DOTALL)


class _Parser:
    def __init__(self, text: str, statuses: Collection[str] | None) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.statuses = statuses

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse(self) -> Node:
        if not self.tokens:
            raise QueryError("empty query", 0)
        node = self.or_expr(0)
        tok = self.peek()
        if tok is not None:
            raise QueryError("unmatched )", tok.pos)
        return node

    def or_expr(self, depth: int) -> Node:
        parts = [self.and_expr(depth)]
        while True:
            tok = self.peek()
            if tok is None or not (tok.kind == "|" or (tok.kind == "word" and tok.text == "OR")):
                break
            self.i += 1
            if self.peek() is None or self.peek().kind in (")", "|"):  # type: ignore[union-attr]
                raise QueryError(f"nothing after {tok.text}", tok.pos)
            parts.append(self.and_expr(depth))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self, depth: int) -> Node:
        parts: list[Node] = []
        while True:
            tok = self.peek()
            if tok is None or tok.kind in (")", "|") or (tok.kind == "word" and tok.text == "OR"):
                break
            if tok.kind == "word" and tok.text == "AND":
                if not parts:
                    raise QueryError("nothing before AND", tok.pos)
                self.i += 1
                nxt = self.peek()
                if nxt is None or nxt.kind in (")", "|") or nxt.text in ("AND", "OR"):
                    raise QueryError("nothing after AND", tok.pos)
                continue
            parts.append(self.unary(depth))
        if not parts:
            tok = self.peek()
            pos = tok.pos if tok is not None else len(self.text)
            raise QueryError("expected a term", pos)
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self, depth: int) -> Node:
        nots = 0
        while True:
            tok = self.peek()
            if tok is not None and (tok.kind == "-" or (tok.kind == "word" and tok.text == "NOT")):
                nots += 1
                self.i += 1
                if depth + nots > MAX_DEPTH:
                    raise QueryError("negations nested too deep", tok.pos)
                if self.peek() is None:
                    raise QueryError(f"nothing after {tok.text}", tok.pos)
                continue
            break
        node = self.primary(depth + nots)
        for _ in range(nots):
            node = Not(node)
        return node

    def primary(self, depth: int) -> Node:
        tok = self.peek()
        assert tok is not None
        self.i += 1
        if tok.kind == "(":
            if depth >= MAX_DEPTH:
                raise QueryError("parentheses nested too deep", tok.pos)
            if self.peek() is not None and self.peek().kind == ")":  # type: ignore[union-attr]
                raise QueryError("empty ( )", tok.pos)
            node = self.or_expr(depth + 1)
            close = self.peek()
            if close is None or close.kind != ")":
                raise QueryError("unclosed (", tok.pos)
            self.i += 1
            return node
        if tok.kind == "quoted":
            return Word(tok.text)
        if tok.kind in (")", "|", "-"):
            raise QueryError(f"unexpected {tok.text}", tok.pos)
        if tok.text in KEYWORDS:
            raise QueryError(f"{tok.text} needs a term before and after it", tok.pos)
        if tok.text[:4].lower() == "cfg.":
            return self.compare(tok)
        m = _FIELD_RE.fullmatch(tok.text)
        if m is not None:
            name = m.group(1).lower()
            if name not in FIELDS:
                raise QueryError(
                    f"unknown field {m.group(1)}: (fields: {', '.join(FIELDS)}, cfg.KEY; "
                    'quote text holding a colon: "a:b", or start a regex with re:)',
                    tok.pos,
                )
            value = self.glued_value(m.group(2), tok, f"{name}: needs a value")
            known = self.statuses
            if name == "status" and known is not None and value.lower() not in known:
                raise QueryError(
                    f"unknown status {value!r} (one of {', '.join(known)})",
                    tok.pos + len(name) + 1,
                )
            return Field(name, value)
        return Word(tok.text)

    def glued_value(self, rest: str, tok: _Token, missing: str) -> str:
        """The value after `field:` or an operator: the rest of the word, or a quoted string
        right after it."""
        if rest:
            return rest
        nxt = self.peek()
        if nxt is not None and nxt.kind == "quoted" and nxt.glued:
            self.i += 1
            return nxt.text
        raise QueryError(missing, tok.pos)

    def compare(self, tok: _Token) -> Compare:
        body = tok.text[4:]
        at = min((j for j in (body.find(c) for c in "=!<>") if j >= 0), default=-1)
        if at < 0:
            raise QueryError(
                f"cfg.{body} needs a comparison: =, !=, <, <=, >, >= and a value", tok.pos
            )
        key = body[:at]
        if not key:
            raise QueryError("cfg. needs a key (cfg.lr>=1e-3)", tok.pos)
        op = next((o for o in OPS if body.startswith(o, at)), None)
        if op is None:
            raise QueryError(
                f"bad operator after cfg.{key} (=, !=, <, <=, >, >=)", tok.pos + 4 + at
            )
        value = self.glued_value(body[at + len(op) :], tok, f"cfg.{key}{op} needs a value")
        return Compare(key, "=" if op == "==" else op, value)


def parse(text: str, *, statuses: Collection[str] | None = None) -> Node:
    """The tree of a query; QueryError when it does not parse. With `statuses`, a
    `status:` value must be one of them (case-insensitive)."""
    known = None if statuses is None else tuple(s.lower() for s in statuses)
    return _Parser(text, known).parse()


# --- what a query reads of a run --------------------------------------------------------------


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


def walk(node: Node) -> Iterable[Node]:
    """Every node of the tree, parents first."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, And | Or):
            stack.extend(reversed(n.children))
        elif isinstance(n, Not):
            stack.append(n.child)


def uses_status(node: Node) -> bool:
    """The query asks for statuses (which move with the clock, and cost a pass over data)."""
    return any(isinstance(n, Field) and n.name == "status" for n in walk(node))


# --- regex or query -----------------------------------------------------------------------------

_QUERY_MARK = re.compile(
    r"""(?:^|[\s(|])(?:[A-Za-z_][A-Za-z0-9_]*:|cfg\.|-\S)"""  # a field, cfg., a leading -
    r"""|(?:^|[\s(])(?-i:AND|OR|NOT)(?=[\s(]|$)"""  # a keyword (upper case)
    r"""|["']"""  # a quote
    r"""|\S\s+\S""",  # two terms apart
    re.IGNORECASE,
)


def is_query(text: str) -> bool:
    """Whether `text` is read as a query rather than a regex (the module's rule)."""
    if text.startswith(REGEX_PREFIX):
        return False
    return _QUERY_MARK.search(text.strip()) is not None


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
