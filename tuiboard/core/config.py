"""A run's configuration files: config.json, config.yaml, hparams.yaml, params.yaml.

Owns: reading them into one flat dict (nested mappings joined with "/", as metric tags are),
unwrapping W&B's `{desc, value}` wrappers, and a small YAML parser of our own for the subset that
real configs use (Lightning's `save_hyperparameters`, W&B's `files/config.yaml`, DVC params):
block mappings and sequences nested by indentation, compact `- key: value` items, flow `[..]` and
`{..}`, plain / single- / double-quoted scalars (also folded over several lines, as PyYAML wraps
long strings), `|` and `>` block scalars, comments, anchors and aliases, `<<` merges, and the
tags `!!str !!int !!float !!bool !!null !!seq !!map !!python/tuple`. Plain scalars resolve as
PyYAML's YAML 1.1 resolver does (ints with 0x/0o/0b/_/base 60, floats only with a "." and a signed
exponent, .inf/.nan, yes/no/on/off booleans, ~ and null), except dates, which stay strings
so a config stays JSON-serialisable for `ls --json`.
Anything outside the subset (other tags, `?` keys, several documents) gives a ReadWarning with
its line and skips only that entry; reading never raises.
Must not import: textual, rich, yaml (PyYAML is a test-only reference), tuiboard modules other
than tuiboard.core.types.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from tuiboard.core.types import ReadWarning

CONFIG_NAMES = ("config.json", "config.yaml", "hparams.yaml", "params.yaml")
MAX_CONFIG_BYTES = 16 * 1024 * 1024
"""A config larger than this is not read (a warning says so): it is data, not settings."""
WANDB_INTERNAL = frozenset({"_wandb", "wandb_version"})

Config = dict[str, object]


def read_small_file(path: str, limit: int, what: str) -> tuple[bytes | None, ReadWarning | None]:
    """A settings file's bytes, or None and the warning why not (unreadable, or over `limit`
    bytes: then it is data, not settings). `what` names the file in the warning."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return None, ReadWarning(file=path, message=f"cannot read {what}: {reason}")
    if len(raw) > limit:
        return None, ReadWarning(file=path, message=f"{what} larger than {limit} bytes, not read")
    return raw, None


def read_config(path: str) -> tuple[Config, list[ReadWarning]]:
    """Read one config file into a flat dict; problems become warnings, never exceptions."""
    warnings: list[ReadWarning] = []
    raw, problem = read_small_file(path, MAX_CONFIG_BYTES, "config")
    if raw is None:
        return {}, [problem] if problem is not None else []
    text = raw.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    data: Any
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:
            return {}, [ReadWarning(file=path, message=f"config is not valid JSON: {error}")]
    else:
        data, errors = parse_yaml(text)
        for line, message in errors:
            warnings.append(ReadWarning(file=path, message=f"config: {message}", line=line))
    if data is None:
        return {}, warnings
    if not isinstance(data, dict):
        warnings.append(ReadWarning(file=path, message="config is not a mapping of names"))
        return {}, warnings
    try:
        return flatten(unwrap_wandb(data)), warnings
    except RecursionError:
        warnings.append(ReadWarning(file=path, message="config nested too deeply, not read"))
        return {}, warnings


def unwrap_wandb(data: dict[Any, Any]) -> dict[Any, Any]:
    """W&B's config.yaml wraps each entry as `{desc: .., value: ..}`: keep the values and drop
    W&B's own `_wandb` / `wandb_version`. Applied when the file is W&B's (it has one of those
    keys) or when every entry is such a wrapper, so a plain config with a "value" key is kept."""
    entries = {k: v for k, v in data.items() if k not in WANDB_INTERNAL}
    wrapped = [_is_wrapper(v) for v in entries.values()]
    is_wandb = len(entries) != len(data) or (bool(wrapped) and all(wrapped))
    if not is_wandb:
        return data
    return {k: (v["value"] if _is_wrapper(v) else v) for k, v in entries.items()}


def _is_wrapper(value: object) -> bool:
    return isinstance(value, dict) and "value" in value and set(value) <= {"value", "desc"}


def flatten(data: dict[Any, Any], prefix: str = "") -> Config:
    """Nested mappings joined with "/" (`{"opt": {"lr": 1}}` is `opt/lr`); other values kept.
    An empty nested mapping is kept as {} so its key is not lost."""
    out: Config = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, f"{name}/"))
        else:
            out[name] = value
    return out


# --- YAML subset -------------------------------------------------------------------------------


class YamlSubsetError(Exception):
    """Raised inside the parser only; read_config turns it into a warning."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


_INT_RE = re.compile(
    r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
    r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"
)
_FLOAT_RE = re.compile(
    r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_BOOLS = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}
_SIMPLE_TAGS = frozenset({"!!str", "!!int", "!!float", "!!bool", "!!null", "!!seq", "!!map"})


def resolve_plain(text: str) -> Any:
    """The value of a plain (unquoted) scalar, as PyYAML's YAML 1.1 resolver gives it."""
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    first = text[0]
    if first in "-+0123456789.":
        if _INT_RE.fullmatch(text):
            return _to_int(text)
        if _FLOAT_RE.fullmatch(text):
            return _to_float(text)
    return text


def _to_int(text: str) -> int:
    value = text.replace("_", "")
    sign = -1 if value[0] == "-" else 1
    if value[0] in "+-":
        value = value[1:]
    if value == "0":
        return 0
    if value.startswith("0b"):
        return sign * int(value[2:], 2)
    if value.startswith("0x"):
        return sign * int(value[2:], 16)
    if value[0] == "0":
        return sign * int(value, 8)
    if ":" in value:
        return sign * _base60(value)  # type: ignore[return-value]
    return sign * int(value)


def _to_float(text: str) -> float:
    value = text.replace("_", "").lower()
    sign = -1.0 if value[0] == "-" else 1.0
    if value[0] in "+-":
        value = value[1:]
    if value == ".inf":
        return sign * math.inf
    if value == ".nan":
        return math.nan
    if ":" in value:
        return sign * float(_base60(value))
    return sign * float(value)


def _base60(value: str) -> int | float:
    total: int | float = 0
    base = 1
    for part in reversed(value.split(":")):
        total += (float(part) if "." in part else int(part)) * base
        base *= 60
    return total


def parse_yaml(text: str) -> tuple[Any, list[tuple[int, str]]]:
    """Parse the first document of `text`. Returns (value, [(line, problem), ...]); the value
    holds everything read outside the problems (None for an empty document)."""
    parser = _Parser(text)
    try:
        value = parser.parse_document()
    except YamlSubsetError as error:
        parser.errors.append((error.line, error.message))
        value = parser.partial
    except RecursionError:
        parser.errors.append((0, "nested too deeply"))
        value = parser.partial
    return value, parser.errors


def _find_comment(text: str) -> int:
    """Index of a " #" comment in a plain-scalar text, or len(text)."""
    if text.startswith("#"):
        return 0
    index = text.find(" #")
    return len(text) if index < 0 else index


def _split_key(content: str) -> tuple[str, str] | None:
    """(key text, rest after the colon) when a line is a `key: value` entry, else None."""
    if not content:
        return None
    first = content[0]
    if first in "\"'":
        end = _quoted_end(content, 0)
        if end < 0:
            return None
        after = content[end:].lstrip(" ")
        if after.startswith(":") and (len(after) == 1 or after[1] in " \t"):
            return content[:end], after[1:]
        return None
    if first in "[{#&*!|>%@`":
        return None  # flow, comment, properties, block scalar, reserved
    if first in "-?:" and (len(content) == 1 or content[1] in " \t"):
        return None  # a list item, or a `? key` / `: value` pair
    limit = _find_comment(content)
    index = content.find(":")
    while 0 <= index < limit:
        if index + 1 == len(content) or content[index + 1] in " \t":
            return content[:index].rstrip(" \t"), content[index + 1 :]
        index = content.find(":", index + 1)
    return None


def _quoted_end(text: str, start: int) -> int:
    """Index just after the closing quote of the quoted scalar at `start`, or -1."""
    quote = text[start]
    index = start + 1
    while index < len(text):
        char = text[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            if quote == "'" and text[index + 1 : index + 2] == "'":
                index += 2
                continue
            return index + 1
        index += 1
    return -1


def _is_seq_item(content: str) -> bool:
    return content == "-" or content.startswith(("- ", "-\t"))


class _Parser:
    """Recursive descent over rows (line number, indent, content after the indent)."""

    def __init__(self, text: str) -> None:
        self.rows: list[tuple[int, int, str]] = []
        for number, raw in enumerate(text.split("\n"), start=1):
            line = raw.rstrip(" \t\r")
            content = line.lstrip(" ")
            self.rows.append((number, len(line) - len(content), content))
        self.pos = 0
        self.anchors: dict[str, Any] = {}
        self.errors: list[tuple[int, str]] = []
        self.partial: Any = None

    # -- rows --

    def _next(self) -> int | None:
        """Index of the next row that is not blank or a comment, from self.pos."""
        rows = self.rows
        index = self.pos
        while index < len(rows):
            content = rows[index][2]
            if content and not content.startswith("#"):
                return index
            index += 1
        return None

    def _skip_deeper(self, indent: int) -> None:
        """Skip the rest of a damaged entry: every following row indented more than `indent`."""
        while True:
            index = self._next()
            if index is None or self.rows[index][1] <= indent:
                return
            self.pos = index + 1

    # -- structure --

    def parse_document(self) -> Any:
        index = self._next()
        while index is not None and self.rows[index][2].startswith("%"):
            self.pos = index + 1
            index = self._next()
        if (
            index is not None
            and self.rows[index][1] == 0
            and self.rows[index][2][:4].rstrip() == "---"
        ):
            number, _, content = self.rows[index]
            rest = content[3:].lstrip(" ")
            if rest and not rest.startswith("#"):
                self.rows[index] = (number, 0, rest)
                self.pos = index
            else:
                self.pos = index + 1
            index = self._next()
        if index is None:
            return None
        self.pos = index
        value = self.parse_node(self.rows[index][1], -1)
        index = self._next()
        if index is not None:
            number, _, content = self.rows[index]
            if self.rows[index][1] == 0 and content[:4].rstrip(" \t") in ("---", "..."):
                if content.startswith("---"):
                    self.errors.append((number, "only the first YAML document is read"))
            else:
                self.errors.append((number, "unexpected text after the document, not read"))
        return value

    def parse_node(self, indent: int, parent: int) -> Any:
        """The node whose first row is self.pos, at column `indent`, inside a parent at
        column `parent` (continuation lines must be indented more than the parent)."""
        number, _, content = self.rows[self.pos]
        if _is_seq_item(content):
            return self.parse_sequence(indent)
        if _split_key(content) is not None:
            return self.parse_mapping(indent)
        if content[0] in "?:" and (len(content) == 1 or content[1] in " \t"):
            raise YamlSubsetError(number, "complex (?) keys are not supported")
        self.pos += 1
        return self.parse_value(content, number, parent)

    def parse_mapping(self, indent: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.partial is None:
            self.partial = result
        merged: list[dict[str, Any]] = []
        while True:
            index = self._next()
            if index is None:
                break
            number, row_indent, content = self.rows[index]
            if row_indent < indent or (row_indent == 0 and content[:4].rstrip() in ("---", "...")):
                break
            self.pos = index
            if row_indent > indent:
                self.errors.append((number, "unexpected indentation, skipped"))
                self._skip_deeper(indent)
                continue
            split = _split_key(content) if content[0] != "\t" else None
            if split is None:
                if content[0] == "\t":
                    self.errors.append((number, "a tab in the indentation, skipped"))
                elif content.startswith(("? ", ": ")) or content in ("?", ":"):
                    self.errors.append((number, "complex (?) keys are not supported, skipped"))
                elif _is_seq_item(content):
                    self.errors.append((number, "a list item where a key was expected, skipped"))
                else:
                    self.errors.append((number, "expected `key: value`, skipped"))
                self.pos = index + 1
                self._skip_deeper(indent)
                continue
            key_text, rest = split
            key = self._key(key_text, number)
            self.pos = index + 1
            try:
                value = self.parse_value(rest, number, indent, allow_same_indent_seq=True)
            except YamlSubsetError as error:
                self.errors.append((error.line, f"{error.message}; key {key!r} skipped"))
                self._skip_deeper(indent)
                continue
            if key == "<<":
                items = value if isinstance(value, list) else [value]
                if not all(isinstance(item, dict) for item in items):
                    self.errors.append((number, "<< merges only mappings, skipped"))
                    continue
                merged.extend(items)
                continue
            result[key] = value
        for source in merged:
            for key, value in source.items():
                result.setdefault(key, value)
        return result

    def parse_sequence(self, indent: int) -> list[Any]:
        result: list[Any] = []
        if self.partial is None:
            self.partial = result
        while True:
            index = self._next()
            if index is None:
                break
            number, row_indent, content = self.rows[index]
            if row_indent < indent or not _is_seq_item(content):
                if row_indent > indent:
                    raise YamlSubsetError(number, "unexpected indentation")
                break
            if row_indent > indent:
                raise YamlSubsetError(number, "unexpected indentation")
            rest = content[1:]
            stripped = rest.lstrip(" \t")
            try:
                if not stripped or stripped.startswith("#"):
                    self.pos = index + 1
                    item = self._nested_block(indent, allow_same_indent_seq=False)
                else:
                    column = indent + 1 + len(rest) - len(stripped)
                    self.rows[index] = (number, column, stripped)
                    self.pos = index
                    item = self.parse_node(column, indent)
            except YamlSubsetError as error:
                self.errors.append((error.line, f"{error.message}; list item skipped"))
                self._skip_deeper(indent)
                continue
            result.append(item)
        return result

    def _nested_block(self, indent: int, allow_same_indent_seq: bool) -> Any:
        """The value on the rows after a `key:` or `-` with nothing after it: a deeper node,
        a list at the key's own indent (PyYAML writes lists so), or null."""
        index = self._next()
        if index is None:
            return None
        row_indent = self.rows[index][1]
        content = self.rows[index][2]
        if row_indent > indent:
            self.pos = index
            return self.parse_node(row_indent, indent)
        if allow_same_indent_seq and row_indent == indent and _is_seq_item(content):
            self.pos = index
            return self.parse_sequence(indent)
        return None

    # -- values --

    def _key(self, text: str, number: int) -> str:
        if text[:1] in ("'", '"'):
            return self._quoted_inline(text, number)[0]
        return text

    def parse_value(
        self, rest: str, number: int, indent: int, allow_same_indent_seq: bool = False
    ) -> Any:
        """The value after `key:` (or a scalar node's text). Following rows that belong to it
        (deeper blocks, continuation lines) are consumed from self.pos."""
        text = rest.strip(" \t")
        anchor = tag = None
        while text[:1] in ("&", "!") and not text.startswith("!="):
            prop, _, text = text.partition(" ")
            text = text.lstrip(" \t")
            if prop[0] == "&":
                anchor = prop[1:]
            else:
                tag = prop
        if not text or text.startswith("#"):
            value = self._nested_block(indent, allow_same_indent_seq)
            plain = False
        else:
            value, plain = self._inline(text, number, indent)
        if tag is not None:
            value = self._apply_tag(tag, value, plain, number)
        elif plain:
            value = resolve_plain(value)
        if anchor:
            self.anchors[anchor] = value
        return value

    def _inline(self, text: str, number: int, indent: int) -> tuple[Any, bool]:
        """(value, is_plain) for a value starting on this row. A plain value is returned as
        its text, resolved by the caller (a tag may change how)."""
        first = text[0]
        if first == "*":
            name = text[1:].split(" ", 1)[0]
            tail = text[1 + len(name) :].strip(" \t")
            if tail and not tail.startswith("#"):
                raise YamlSubsetError(number, "text after an alias")
            if name not in self.anchors:
                raise YamlSubsetError(number, f"unknown alias *{name}")
            return self.anchors[name], False
        if first in "\"'":
            return self._quoted(text, number), False
        if first in "[{":
            return self._flow(text, number, indent), False
        if first in "|>":
            return self._block_scalar(text, number, indent), False
        if first in "@`%" or text.startswith("? "):
            raise YamlSubsetError(number, f"unsupported YAML ({text[:20]!r})")
        return self._plain(text, number, indent), True

    def _plain(self, text: str, number: int, indent: int) -> str:
        parts = [text[: _find_comment(text)].rstrip(" \t")]
        if len(parts[0]) < len(text):
            return parts[0]  # a comment ends the scalar
        blanks = 0
        index = self.pos
        while index < len(self.rows):
            row_number, row_indent, content = self.rows[index]
            if not content:
                blanks += 1
                index += 1
                continue
            if row_indent <= indent or content.startswith("#"):
                break
            if _split_key(content) is not None:
                raise YamlSubsetError(row_number, "a `key:` inside a multi-line plain value")
            cut = content[: _find_comment(content)].rstrip(" \t")
            parts.append("\n" * blanks if blanks else " ")
            parts.append(cut)
            blanks = 0
            index += 1
            self.pos = index
            if len(cut) < len(content):
                break
        return "".join(parts)

    def _quoted(self, text: str, number: int) -> str:
        """A quoted scalar starting on this row, continued on the following rows if needed."""
        end = _quoted_end(text, 0)
        if end >= 0:
            value, rest = self._quoted_inline(text, number)
            self._expect_end(rest, number)
            return value
        quote = text[0]
        pieces = [text]
        index = self.pos
        while True:
            if index >= len(self.rows):
                raise YamlSubsetError(number, "unterminated quoted string")
            pieces.append(self.rows[index][2])
            index += 1
            joined = "\n".join(pieces)
            end = _quoted_end(joined, 0)
            if end >= 0:
                break
        self.pos = index
        body = _fold_quoted_lines(joined[1 : end - 1].split("\n"), quote)
        self._expect_end(joined[end:], self.rows[index - 1][0])
        return _unescape(body, number) if quote == '"' else body.replace("''", "'")

    def _quoted_inline(self, text: str, number: int) -> tuple[str, str]:
        end = _quoted_end(text, 0)
        body = text[1 : end - 1]
        if text[0] == '"':
            return _unescape(body, number), text[end:]
        return body.replace("''", "'"), text[end:]

    @staticmethod
    def _expect_end(rest: str, number: int) -> None:
        rest = rest.strip(" \t")
        if rest and not rest.startswith("#"):
            raise YamlSubsetError(number, f"unexpected text after a quoted string: {rest[:20]!r}")

    def _block_scalar(self, text: str, number: int, indent: int) -> str:
        header = text[: _find_comment(text)].strip(" \t")
        style, chomp, explicit = header[0], "", 0
        for char in header[1:]:
            if char in "+-":
                chomp = char
            elif char.isdigit():
                explicit = int(char)
            else:
                raise YamlSubsetError(number, f"bad block scalar header {header!r}")
        lines: list[str] = []
        content_indent = indent + explicit if explicit else 0
        index = self.pos
        at_end = False  # the text ends on the last content row, with no line break after it
        while index < len(self.rows):
            _, row_indent, content = self.rows[index]
            if content:
                if not content_indent:
                    content_indent = row_indent
                if row_indent < content_indent or row_indent <= indent:
                    break
                lines.append(" " * (row_indent - content_indent) + content)
                at_end = index == len(self.rows) - 1
            else:
                lines.append("")
            index += 1
        self.pos = index
        trailing = 0
        while lines and not lines[-1]:
            lines.pop()
            trailing += 1
        if not lines:
            return "\n" * trailing if chomp == "+" else ""
        body = "\n".join(lines) if style == "|" else _fold_block(lines)
        if chomp == "-" or at_end:
            return body
        return body + "\n" + ("\n" * trailing if chomp == "+" else "")

    def _flow(self, text: str, number: int, indent: int) -> Any:
        source = text
        index = self.pos
        while True:
            try:
                value, end = _FlowParser(source, number, self.anchors).parse()
                break
            except _FlowIncomplete:
                if index >= len(self.rows) or (
                    self.rows[index][2] and self.rows[index][1] <= indent
                ):
                    raise YamlSubsetError(number, "unclosed [ or {") from None
                source += "\n" + self.rows[index][2]
                index += 1
        self.pos = index
        self._expect_end(source[end:], number)
        return value

    def _apply_tag(self, tag: str, value: Any, plain: bool, number: int) -> Any:
        if tag == "!!python/tuple" or tag == "!!seq":
            if isinstance(value, list):
                return value
            raise YamlSubsetError(number, f"{tag} on a value that is not a list")
        if tag == "!!map":
            if isinstance(value, dict):
                return value
            raise YamlSubsetError(number, "!!map on a value that is not a mapping")
        if tag not in _SIMPLE_TAGS or not isinstance(value, str):
            raise YamlSubsetError(number, f"unsupported YAML tag {tag}")
        if tag == "!!str":
            return value
        resolved = resolve_plain(value) if plain else value
        try:
            if tag == "!!int":
                return resolved if type(resolved) is int else _to_int(value)
            if tag == "!!float":
                return float(resolved) if type(resolved) in (int, float) else _to_float(value)
        except (ValueError, IndexError):
            raise YamlSubsetError(number, f"{value!r} is not a {tag[2:]}") from None
        if tag == "!!bool" and type(resolved) is bool:
            return resolved
        if tag == "!!null" and resolved is None:
            return None
        raise YamlSubsetError(number, f"{value!r} is not a {tag[2:]}")


def _fold_quoted_lines(lines: list[str], quote: str) -> str:
    """YAML line folding inside a quoted scalar: a single break is a space, each empty line a
    newline; for double quotes a trailing backslash joins the lines with nothing between."""
    out = [lines[0].rstrip(" \t") if len(lines) > 1 else lines[0]]
    blanks = 0
    escaped_break = quote == '"' and _ends_with_escape(lines[0])
    for position, raw in enumerate(lines[1:], start=1):
        last = position == len(lines) - 1
        line = raw.strip(" \t") if not last else raw.lstrip(" \t")
        if not line and not last:
            blanks += 1
            continue
        if escaped_break:
            out[-1] = out[-1][:-1]
        elif blanks:
            out.append("\n" * blanks)
        else:
            out.append(" ")
        out.append(line)
        blanks = 0
        escaped_break = quote == '"' and _ends_with_escape(line)
    return "".join(out)


def _ends_with_escape(line: str) -> bool:
    count = len(line) - len(line.rstrip("\\"))
    return count % 2 == 1


def _fold_block(lines: list[str]) -> str:
    out: list[str] = []
    previous_text = False
    for line in lines:
        if not line:
            out.append("\n")
            previous_text = False
        elif line[0] == " ":
            if previous_text:
                out.append("\n")
            out.append(line)
            previous_text = False
        else:
            if previous_text:
                out.append(" ")
            out.append(line)
            previous_text = True
    return "".join(out)


def _unescape(body: str, number: int) -> str:
    if "\\" not in body:
        return body
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        code = body[index + 1 : index + 2]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            index += 2
        elif code in _HEX_ESCAPES:
            width = _HEX_ESCAPES[code]
            digits = body[index + 2 : index + 2 + width]
            try:
                out.append(chr(int(digits, 16)))
            except ValueError:
                raise YamlSubsetError(number, f"bad escape \\{code}{digits}") from None
            index += 2 + width
        else:
            raise YamlSubsetError(number, f"bad escape \\{code}")
    return "".join(out)


class _FlowIncomplete(Exception):
    """The flow collection goes on past the end of the text given."""


class _FlowParser:
    """`[a, b]` and `{k: v}` on one logical line (several rows joined with spaces)."""

    def __init__(self, text: str, number: int, anchors: dict[str, Any]) -> None:
        self.text = text
        self.index = 0
        self.number = number
        self.anchors = anchors

    def parse(self) -> tuple[Any, int]:
        value = self._node()
        return value, self.index

    def _skip(self) -> None:
        text = self.text
        while self.index < len(text):
            char = text[self.index]
            if char in " \t\n":
                self.index += 1
            elif char == "#" and (self.index == 0 or text[self.index - 1] in " \t\n"):
                stop = text.find("\n", self.index)  # a comment runs to the end of its row
                self.index = len(text) if stop < 0 else stop
            else:
                return

    def _peek(self) -> str:
        self._skip()
        if self.index >= len(self.text):
            raise _FlowIncomplete
        return self.text[self.index]

    def _node(self, key: bool = False) -> Any:
        """The next node; a plain key is kept as written (as in block mappings)."""
        char = self._peek()
        anchor = None
        if char == "&":
            end = self._token_end()
            anchor = self.text[self.index + 1 : end]
            self.index = end
            char = self._peek()
        if char == "!":
            end = self._token_end()
            tag = self.text[self.index : end]
            raise YamlSubsetError(self.number, f"unsupported YAML tag {tag} in a flow collection")
        if char == "[":
            value: Any = self._sequence()
        elif char == "{":
            value = self._mapping()
        elif char in "\"'":
            end = _quoted_end(self.text, self.index)
            if end < 0:
                raise _FlowIncomplete
            body = self.text[self.index + 1 : end - 1]
            if "\n" in body:
                body = _fold_quoted_lines(body.split("\n"), char)
            value = _unescape(body, self.number) if char == '"' else body.replace("''", "'")
            self.index = end
        elif char == "*":
            end = self._token_end()
            name = self.text[self.index + 1 : end]
            if name not in self.anchors:
                raise YamlSubsetError(self.number, f"unknown alias *{name}")
            value = self.anchors[name]
            self.index = end
        else:
            text = self._plain_text()
            value = text if key else resolve_plain(text)
        if anchor:
            self.anchors[anchor] = value
        return value

    def _token_end(self) -> int:
        end = self.index
        while end < len(self.text) and self.text[end] not in " \t,[]{}":
            end += 1
        return end

    def _plain_text(self) -> str:
        text = self.text
        start = self.index
        end = start
        while end < len(text):
            char = text[end]
            if char in ",[]{}":
                break
            if char == ":" and (end + 1 == len(text) or text[end + 1] in " \t\n,[]{}"):
                break
            if char == "#" and end > start and text[end - 1] in " \t\n":
                break
            end += 1
        self.index = end
        return " ".join(part.strip(" \t") for part in text[start:end].split("\n")).strip(" \t")

    def _sequence(self) -> list[Any]:
        self.index += 1
        items: list[Any] = []
        while True:
            if self._peek() == "]":
                self.index += 1
                return items
            item = self._node()
            if self._peek() == ":":  # a single-pair mapping inside a list: [a: 1]
                self.index += 1
                name = item if isinstance(item, str) else json.dumps(item)
                item = {name: self._node()}
            items.append(item)
            char = self._peek()
            if char == ",":
                self.index += 1
            elif char != "]":
                raise YamlSubsetError(self.number, f"expected , or ] in a list, got {char!r}")

    def _mapping(self) -> dict[str, Any]:
        self.index += 1
        result: dict[str, Any] = {}
        while True:
            if self._peek() == "}":
                self.index += 1
                return result
            key = self._node(key=True)
            value = None
            if self._peek() == ":":
                self.index += 1
                if self._peek() not in ",}":
                    value = self._node()
            result[key if isinstance(key, str) else json.dumps(key)] = value
            char = self._peek()
            if char == ",":
                self.index += 1
            elif char != "}":
                raise YamlSubsetError(self.number, f"expected , or }} in a mapping, got {char!r}")


__all__ = [
    "CONFIG_NAMES",
    "flatten",
    "parse_yaml",
    "read_config",
    "resolve_plain",
    "unwrap_wandb",
]
