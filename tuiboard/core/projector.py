"""The embedding projector's files: projector_config.pbtxt and the TSV files it names.

Owns: a small parser of the protobuf text format (enough for ProjectorConfig: fields, nested
messages with `{}` or `<>`, strings with escapes and adjacent concatenation, numbers,
identifiers, `#` comments, `[a, b]` repeated shorthand), and counting the rows and columns of
tensors.tsv / metadata.tsv without reading them into Python objects (bytes counted in chunks,
work capped at MAX_TSV_BYTES). Paths in the config are relative to the config's directory and
must stay inside it, as TensorBoard's projector plugin resolves them; EmbeddingInfo holds them
resolved (real paths), "" for a path refused or absent.
Must not import: textual, rich, protobuf / tensorboard (the tests use them as the reference),
tuiboard modules other than tuiboard.core.types.
"""

from __future__ import annotations

import os
import posixpath
import re
from typing import Any

import numpy as np

from tuiboard.core import source
from tuiboard.core.config import read_small_file
from tuiboard.core.types import EmbeddingInfo, ReadWarning

MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_TSV_BYTES = 1024 * 1024 * 1024
"""Beyond this a TSV file is not counted (the shape is left unknown, with a warning)."""
CHUNK = 1024 * 1024

Message = dict[str, list[Any]]
"""A parsed text-format message: field name -> every value it was given (repeated or not)."""

_TOKEN_RE = re.compile(
    r"""\s+|\#[^\n]*|(?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
    r"""|(?P<num>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)[fF]?)"""
    r"""|(?P<id>[A-Za-z_][A-Za-z0-9_.]*)|(?P<sym>[{}<>:\[\],;])"""
)
_SIMPLE_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}


class TextFormatError(Exception):
    """Raised inside the parser only; read_projector turns it into a warning."""


def parse_text_format(text: str) -> Message:
    """Parse protobuf text format into nested Message dicts (no schema needed)."""
    tokens = _tokenize(text)
    message, position = _parse_fields(tokens, 0, None)
    if position != len(tokens):
        raise TextFormatError(f"unexpected {tokens[position][1]!r}")
    return message


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if match is None:
            raise TextFormatError(f"cannot read {text[position : position + 20]!r}")
        position = match.end()
        kind = match.lastgroup
        if kind is None:
            continue  # whitespace or comment
        value = match.group(kind)
        if kind == "str":
            if tokens and tokens[-1][0] == "str":  # "a" "b" is one string
                tokens[-1] = ("str", tokens[-1][1] + _unescape(value[1:-1]))
                continue
            tokens.append(("str", _unescape(value[1:-1])))
        else:
            tokens.append((kind, value))
    return tokens


def _unescape(body: str) -> bytes:
    out = bytearray()
    index = 0
    raw = body.encode("utf-8")
    while index < len(raw):
        byte = raw[index]
        if byte != 0x5C:
            out.append(byte)
            index += 1
            continue
        code = chr(raw[index + 1]) if index + 1 < len(raw) else ""
        if code in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[code].encode()
            index += 2
        elif code in "01234567" and code:
            digits = re.match(rb"[0-7]{1,3}", raw[index + 1 : index + 4])
            assert digits is not None
            out.append(int(digits.group(), 8) & 0xFF)
            index += 1 + len(digits.group())
        elif code == "x":
            digits = re.match(rb"[0-9a-fA-F]{1,2}", raw[index + 2 : index + 4])
            if digits is None:
                raise TextFormatError("bad \\x escape")
            out.append(int(digits.group(), 16))
            index += 2 + len(digits.group())
        else:
            raise TextFormatError(f"bad escape \\{code}")
    return bytes(out)


def _parse_fields(
    tokens: list[tuple[str, Any]], position: int, close: str | None
) -> tuple[Message, int]:
    message: Message = {}
    while position < len(tokens):
        kind, value = tokens[position]
        if kind == "sym" and value == close:
            return message, position + 1
        if kind == "sym" and value in ",;":
            position += 1
            continue
        if kind != "id":
            raise TextFormatError(f"expected a field name, got {value!r}")
        name = value
        position += 1
        colon = position < len(tokens) and tokens[position] == ("sym", ":")
        if colon:
            position += 1
        if position >= len(tokens):
            raise TextFormatError(f"field {name} has no value")
        kind, value = tokens[position]
        values = message.setdefault(name, [])
        if kind == "sym" and value == "[":
            position += 1
            while tokens[position] != ("sym", "]"):
                item, position = _parse_value(tokens, position)
                values.append(item)
                if tokens[position] == ("sym", ","):
                    position += 1
            position += 1
        else:
            item, position = _parse_value(tokens, position)
            values.append(item)
    if close is not None:
        raise TextFormatError(f"missing {close!r}")
    return message, position


def _parse_value(tokens: list[tuple[str, Any]], position: int) -> tuple[Any, int]:
    if position >= len(tokens):
        raise TextFormatError("missing value")
    kind, value = tokens[position]
    if kind == "sym" and value in "{<":
        return _parse_fields(tokens, position + 1, "}" if value == "{" else ">")
    if kind == "str":
        return value, position + 1
    if kind == "num":
        text = value.rstrip("fF")
        try:
            number: int | float = int(text, 0) if text.lstrip("+-").isdigit() else float(text)
        except ValueError:
            number = float(text)
        return number, position + 1
    if kind == "id":
        return value, position + 1  # enum names, true/false, inf, nan
    raise TextFormatError(f"unexpected {value!r}")


def _first_str(message: Message, name: str) -> str:
    values = message.get(name) or [b""]
    value = values[-1]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _resolve(path: str, config_dir: str, config: str, warnings: list[ReadWarning]) -> str:
    """The real path of an asset, as TensorBoard's projector resolves it: relative to the
    config's directory, and refused (a warning, "") when it leads outside that directory:
    a log is untrusted and must not make us read elsewhere on the machine."""
    if not path:
        return ""
    if source.is_url(config_dir):  # a remote logdir: "/"-paths under the config's URL
        scheme, _, rest = config_dir.partition("://")
        joined = posixpath.normpath(posixpath.join("/" + rest, path))
        if not joined.startswith("/" + rest.rstrip("/") + "/"):
            message = f"asset path {path!r} resolves outside the config directory, not read"
            warnings.append(ReadWarning(file=config, message=message))
            return ""
        return f"{scheme}://{joined[1:]}"
    candidate = os.path.expanduser(path)
    if not os.path.isabs(candidate):
        candidate = os.path.join(config_dir, candidate)
    candidate = os.path.realpath(candidate)
    if os.path.commonpath([config_dir, candidate]) != config_dir:
        message = f"asset path {path!r} resolves outside the config directory, not read"
        warnings.append(ReadWarning(file=config, message=message))
        return ""
    return candidate


def read_projector(path: str) -> tuple[list[EmbeddingInfo], list[ReadWarning]]:
    """The embeddings a projector_config.pbtxt declares, with the shapes found on disk."""
    warnings: list[ReadWarning] = []
    raw, problem = read_small_file(path, MAX_CONFIG_BYTES, "projector config")
    if raw is None:
        return [], [problem] if problem is not None else []
    try:
        config = parse_text_format(raw.decode("utf-8", "replace"))
    except (TextFormatError, IndexError) as error:
        reason = str(error) or "truncated"
        return [], [ReadWarning(file=path, message=f"projector config not readable: {reason}")]
    if source.is_url(path):
        config_dir = path.rpartition("/")[0]
    else:
        config_dir = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    infos: list[EmbeddingInfo] = []
    for entry in config.get("embeddings", []):
        if not isinstance(entry, dict):
            warnings.append(ReadWarning(file=path, message="embeddings entry is not a message"))
            continue
        tensor_path = _resolve(_first_str(entry, "tensor_path"), config_dir, path, warnings)
        metadata_path = _resolve(_first_str(entry, "metadata_path"), config_dir, path, warnings)
        sprites = entry.get("sprite") or [{}]
        sprite = sprites[-1] if isinstance(sprites[-1], dict) else {}
        sprite_path = _resolve(_first_str(sprite, "image_path"), config_dir, path, warnings)
        sprite_dim = tuple(v for v in sprite.get("single_image_dim", []) if isinstance(v, int))
        shape: tuple[int, ...] = ()
        declared = [v for v in entry.get("tensor_shape", []) if isinstance(v, int)]
        if declared:
            shape = tuple(declared)
        elif tensor_path:
            counted = _count_tsv(tensor_path, warnings)
            if counted is not None:
                shape = counted
        metadata_rows = 0
        if metadata_path:
            counted = _count_tsv(metadata_path, warnings)
            if counted is not None:
                rows, columns = counted
                # TensorBoard: a metadata file of several columns starts with a header row.
                metadata_rows = rows - 1 if columns > 1 and rows else rows
        infos.append(
            EmbeddingInfo(
                tensor_name=_first_str(entry, "tensor_name"),
                tensor_path=tensor_path,
                metadata_path=metadata_path,
                shape=shape,
                metadata_rows=metadata_rows,
                sprite_path=sprite_path,
                sprite_dim=sprite_dim,
            )
        )
    return infos, warnings


def _count_tsv(path: str, warnings: list[ReadWarning]) -> tuple[int, int] | None:
    """(non-empty rows, tab-separated fields of the first row), counted in chunks of bytes."""
    try:
        size = source.stat(path).st_size
        if size > MAX_TSV_BYTES:
            message = f"{size} bytes: too large to count its rows, shape unknown"
            warnings.append(ReadWarning(file=path, message=message))
            return None
        with source.open_binary(path) as handle:
            rows = 0
            first_line = b""
            previous = 10  # a virtual newline before the file: a leading empty line is empty
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                if b"\n" not in first_line:
                    first_line += chunk[: chunk.find(b"\n") + 1 or len(chunk)]
                data = np.frombuffer(chunk, dtype=np.uint8)
                newline = data == 10
                breaks = int(np.count_nonzero(newline))
                # An empty line is a newline right after a newline (or at the file's start).
                empty = int(np.count_nonzero(newline[1:] & newline[:-1]))
                empty += int(previous == 10 and newline[0])
                rows += breaks - empty
                previous = int(data[-1])
            if previous != 10:
                rows += 1  # a last line without its newline
    except OSError as error:
        reason = error.strerror or type(error).__name__
        warnings.append(ReadWarning(file=path, message=f"cannot read: {reason}"))
        return None
    header = first_line.rstrip(b"\r\n")
    columns = header.count(b"\t") + 1 if header else 0
    return rows, columns
