"""The run query language of the run filter (`f`) and of `summary/plot/export/compare --runs`.

Owns: the query's tree (`Word`, `Field`, `Compare`, `Not`, `And`, `Or`), `parse` (text ->
tree, once; `QueryError` with the 0-based position of the fault), its printer (`str(tree)`
parses back to an equal tree) and `is_query` (the regex-or-query rule below). Matching runs is
core/run_filter.py. Must not import: textual, rich, tuiboard modules (it is pure text).

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

Regex or query (`is_query`, which core/run_filter.py follows): text starting with `re:` is a
regex (the rest). Otherwise it is a query when it holds something only a query has: a `field:`
term, a `cfg.` term, a keyword, a `-` before a term, a quote, or two terms apart by spaces;
else it is today's regex on the run name (TensorBoard's run filter), so `^base`, `lr_0\\.1` and
`a|b` keep working.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TypeAlias

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
