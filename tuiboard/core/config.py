"""A run's configuration files: config.json, config.yaml, hparams.yaml, params.yaml.

Owns: reading them into one flat dict (nested mappings joined with "/", as metric tags are) and
unwrapping W&B's `{desc, value}` wrappers. YAML is PyYAML's safe loader (libyaml's C parser,
CSafeLoader, when PyYAML has it), with constructors that read what Python writers tag as plain
data, so Lightning's `yaml.dump` of save_hyperparameters() and older wandb's config.yaml load
instead of failing; nothing a tag names is ever imported or called:
- `!!python/tuple` is a list; `!!python/object:X` (an object's state mapping) that mapping;
  `!!python/object/apply:X` and `/new:X` their state when they have one, else their dict or list
  items, else their arguments (a single one as itself): a pathlib path is its text, a numpy
  scalar its number, an array nested lists, an OrderedDict a dict; `!!python/name:X` and
  `!!python/module:X` the text "X"; other `!!python/...` scalars (complex, bytes) their text or
  plain value.
- An unknown tag (`!ENV ${HOME}`, `!foo`) reads its node as if it had no tag.
- Timestamps stay text, `!!binary` its base64 text, `!!set` a list of its members, `!!omap` a
  dict, `!!pairs` a list of [key, value]: a config stays JSON-serialisable for `ls --json`.
- Mapping keys are names as written (`1:` is "1", `true:` is "true"), as our metric tags are.
Damage never raises: a document PyYAML refuses is read again one top-level entry at a time, so
a broken entry costs only itself (a ReadWarning with its line); several documents keep the first;
a value that holds itself (`&a [*a]`) or expands past MAX_NODES through aliases is refused.
Must not import: textual, rich, tuiboard modules other than tuiboard.core.types.

Speed (`python bench/bench_config.py`, this 2-core machine, shared and noisy: +-30 %):
read_config takes ~1.0 ms on a 3 KB Lightning hparams.yaml and ~1.5-2.0 ms on a 5 KB W&B
config.yaml, 0.6-0.7x what PyYAML's own yaml.load(CSafeLoader) takes on the latter
(SafeConstructor's generators and registry lookups, BaseResolver's per-node path bookkeeping:
ConfigLoader skips them). Against the hand-written parser it replaced, parse_yaml side by side in
one process (the old module from git): 790-860 vs 870-910 us and 1,330-1,450 vs 1,420-1,530 us.
About 60 % of what is left is libyaml's parser making Python node objects.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tuiboard.core import source
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
        with source.open_binary(path) as handle:
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
        data, problems = parse_yaml(text)
        for line, message in problems:
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


# --- YAML through PyYAML ----------------------------------------------------------------------

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's C parser when PyYAML was built with it (the wheels are), else the pure-Python one;
ConfigLoader builds the values itself from either's nodes."""
_YAML = "tag:yaml.org,2002:"
PYTHON_TAG = _YAML + "python/"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_YAML + t for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP = _YAML + "seq", _YAML + "map"
MAX_NODES = 200_000
"""Values a config may hold once aliases are expanded (an alias bomb is refused beyond it)."""
_NUMPY_DTYPE = re.compile(r"[<>|=]?[biuf][1248]")
_RESOLVERS: dict[str | None, tuple[tuple[str, re.Pattern[str]], ...]] = {
    first: tuple(pairs) for first, pairs in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
"""PyYAML's implicit resolvers (YAML 1.1: yes/no booleans, 0x/0o/base-60 ints, ...) by the
first character of a plain scalar: the table SafeLoader uses, read once."""
_RESOLVED: dict[str, str] = {}
"""Tags of plain scalars already resolved (keys and values repeat across configs: `value`,
`desc`, `null`, `true`); bounded by _RESOLVED_MAX short texts. A dict's get and set are atomic,
so loader threads may share it."""
_RESOLVED_MAX = 65536


class _NotPlain(Exception):
    """The document holds a cycle, or expands past MAX_NODES through aliases."""


class _PlainBuilder(yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """What ConfigLoader adds to PyYAML's safe loader: it builds plain data from the nodes that
    PyYAML's parser and composer make.

    construct_document replaces SafeConstructor's machinery (a generator per collection, a
    registry looked up per node) with one recursive walk over the nodes, so no tag reaches a
    constructor other than those of this module. An alias is built again at each use (no
    shared values), counted against MAX_NODES; a node met again inside itself is a cycle.
    Raises only yaml.YAMLError, _NotPlain and RecursionError."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)  # type: ignore[call-arg]  # the loader's __init__
        self.built = 0
        """Values built so far in this document (an alias's at each use)."""
        self.open_nodes: set[int] = set()
        """ids of the collection nodes being built: one met again is a cycle."""

    # The composer asks these per node. There are no path resolvers, and the implicit
    # resolvers are looked up directly: BaseResolver's generic versions took a third of the time.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        if kind is not ScalarNode:
            return _SEQ if kind is SequenceNode else _MAP
        if not implicit[0]:
            return _STR  # quoted
        tag = _RESOLVED.get(value)
        if tag is None:
            tag = _STR
            for candidate, pattern in _RESOLVERS.get(value[:1], ()):
                if pattern.match(value):
                    tag = candidate
                    break
            if len(_RESOLVED) < _RESOLVED_MAX and len(value) < 64:
                _RESOLVED[value] = tag
        return tag

    def construct_document(self, node: Node) -> Any:
        self.built = 0
        self.open_nodes = set()
        return self.build(node)

    def build(self, node: Node) -> Any:
        self.built += 1
        if self.built > MAX_NODES:
            raise _NotPlain(f"more than {MAX_NODES} values once aliases are expanded, not read")
        tag = node.tag
        if tag == _STR:
            # `!!str` on a list or mapping: built as untagged, as _text does for other scalar tags
            return node.value if type(node) is ScalarNode else _untagged(self, node)
        if tag == _MAP:
            return self.mapping(node)
        if tag == _SEQ:
            return self.sequence(node)
        scalar = _SCALARS.get(tag)
        if scalar is not None:
            return scalar(self, node)
        tagged = _TAGGED.get(tag)
        if tagged is not None:
            return tagged(self, node)
        if tag.startswith(PYTHON_TAG):
            return _python(self, tag[len(PYTHON_TAG) :], node)
        return _untagged(self, node)  # `!foo`, `!ENV`, `tag:example.com,2000:x`, ...

    def sequence(self, node: Node) -> list[Any]:
        if not isinstance(node, SequenceNode):
            raise ConstructorError(None, None, f"{node.tag} needs a list", node.start_mark)
        self._open(node)
        build = self.build
        out = [build(child) for child in node.value]
        self.open_nodes.discard(id(node))
        return out

    def mapping(self, node: Node) -> dict[str, Any]:
        """A mapping with its keys as written: a scalar key's text, another key as JSON."""
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, f"{node.tag} needs a mapping", node.start_mark)
        self._open(node)
        self.flatten_mapping(node)  # `<<` merges, as SafeConstructor does them
        build = self.build
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if type(key_node) is ScalarNode:
                name: str = key_node.value
            else:
                name = json.dumps(build(key_node), default=str)
            out[name] = build(value_node)
        self.open_nodes.discard(id(node))
        return out

    def _open(self, node: Node) -> None:
        key = id(node)
        if key in self.open_nodes:
            raise _NotPlain("a recursive alias (a value holding itself), not read")
        self.open_nodes.add(key)


class ConfigLoader(_PlainBuilder, _SafeLoader):  # type: ignore[misc, valid-type]
    """The config loader: libyaml's parser (CSafeLoader) when PyYAML has it."""


class PureConfigLoader(_PlainBuilder, yaml.SafeLoader):
    """The same in pure Python: asked again when libyaml refuses a document, since libyaml is
    stricter than PyYAML's own parser in corners (an escaped lone surrogate such as
    "\\ud800", which yaml.dump writes for one)."""


_LOADERS: tuple[type[_PlainBuilder], ...] = (
    (ConfigLoader, PureConfigLoader) if _SafeLoader is not yaml.SafeLoader else (PureConfigLoader,)
)


def _untagged(loader: _PlainBuilder, node: Node) -> Any:
    """The node read as if it had no tag: a plain scalar resolved (numbers, booleans, null),
    a quoted one as text, collections as lists and dicts."""
    if isinstance(node, ScalarNode):
        if node.style:
            return node.value
        scalar = _SCALARS.get(loader.resolve(ScalarNode, node.value, (True, False)))
        return scalar(loader, node) if scalar is not None else node.value
    if isinstance(node, SequenceNode):
        return loader.sequence(node)
    return loader.mapping(node)


def _text(loader: _PlainBuilder, node: Node) -> Any:
    """The scalar's text: timestamps stay strings (JSON-serialisable), binary stays base64."""
    if not isinstance(node, ScalarNode):
        return _untagged(loader, node)
    value: str = node.value
    return "".join(value.split()) if node.tag.endswith(":binary") else value


def _members(loader: _PlainBuilder, node: Node) -> list[Any]:
    """!!set: its members as a list."""
    if not isinstance(node, MappingNode):
        raise ConstructorError(None, None, "!!set needs a mapping", node.start_mark)
    return [loader.build(key) for key, _ in node.value]


def _pairs(loader: _PlainBuilder, node: Node) -> Any:
    """!!omap as a dict, !!pairs as a list of [key, value] (SafeConstructor makes tuples)."""
    items = loader.sequence(node)
    if not all(isinstance(item, dict) for item in items):
        raise ConstructorError(None, None, f"{node.tag} needs a list of mappings", node.start_mark)
    if node.tag.endswith(":omap"):
        return {key: value for item in items for key, value in item.items()}
    return [[key, value] for item in items for key, value in item.items()]


def _null(loader: _PlainBuilder, node: Node) -> None:
    return None


def _python(loader: _PlainBuilder, suffix: str, node: Node) -> Any:
    """`!!python/...` tags (tuple aside): names as their dotted text, objects as data."""
    kind, _, name = suffix.partition(":")
    if kind in ("name", "module"):
        return name
    if kind in ("object/apply", "object/new"):
        return _reduced(loader, name, node)
    return _untagged(loader, node)  # object:X (its state), str, int, float, complex, bytes, ...


def _reduced(loader: _PlainBuilder, name: str, node: Node) -> Any:
    """An object pickled by its __reduce__: its state when it has one, else its items, else its
    arguments (a single argument as itself); paths as their text, numpy scalars as numbers."""
    state: Any = None
    if not isinstance(node, MappingNode):
        built = _untagged(loader, node)
        args: list[Any] = built if isinstance(built, list) else [built]
    else:
        parts = loader.mapping(node)
        given = parts.get("args")
        args = given if isinstance(given, list) else [] if given is None else [given]
        state = parts.get("state")
        if name == "numpy.dtype" and isinstance(state, list) and len(state) > 1 and args:
            return f"{state[1]}{args[0]}" if state[1] in ("<", ">") else args[0]
        if name.endswith("multiarray._reconstruct"):
            pass  # an ndarray: its state holds the data, below
        elif state is not None:
            if isinstance(state, list) and len(state) == 2 and isinstance(state[1], dict):
                first = state[0] if isinstance(state[0], dict) else {}
                return {**first, **state[1]}  # (dict state, slots state)
            return state
        for key in ("dictitems", "listitems", "kwds"):
            if parts.get(key):
                return parts[key]
    if name.startswith("pathlib.") and args and all(isinstance(a, str) for a in args):
        return str(PureWindowsPath(*args) if "Windows" in name else PurePosixPath(*args))
    if name.endswith("multiarray._reconstruct") and isinstance(state, list) and len(state) == 5:
        array = _numpy_array(state)  # state: [version, shape, dtype, fortran order, bytes]
        if array is not None:
            return array
    if name.endswith("multiarray.scalar") and len(args) == 2:
        number = _numpy_scalar(args[0], args[1])
        if number is not None:
            return number
    if name.startswith("collections.") and len(args) == 1 and isinstance(args[0], list):
        pairs = args[0]  # OrderedDict([(k, v), ...])
        if all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in pairs):
            return dict(pairs)
    return args[0] if len(args) == 1 else args


def _numpy_scalar(dtype: object, data: object) -> int | float | bool | None:
    """numpy's `scalar(dtype, bytes)` (an np.float64 in Lightning's hparams) as a number."""
    if not isinstance(dtype, str) or not isinstance(data, str):
        return None
    if not _NUMPY_DTYPE.fullmatch(dtype):
        return None
    try:
        raw = base64.b64decode(data, validate=True)
        item: int | float | bool = np.frombuffer(raw, dtype=np.dtype(dtype))[0].item()
    except (ValueError, IndexError, TypeError):
        return None
    return item


def _numpy_array(state: list[Any]) -> list[Any] | None:
    """An ndarray's pickled state (`np.array([1, 2])` in hparams) as nested lists of numbers."""
    _, shape, dtype, fortran, data = state
    if not (isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape)):
        return None
    if not isinstance(data, str) or not isinstance(dtype, str):
        return None
    if not _NUMPY_DTYPE.fullmatch(dtype):
        return None
    try:
        raw = base64.b64decode(data, validate=True)
        flat = np.frombuffer(raw, dtype=np.dtype(dtype))
        values: list[Any] = flat.reshape(shape, order="F" if fortran else "C").tolist()
    except (ValueError, TypeError):
        return None
    return values


_SCALARS: dict[str, Callable[[Any, Any], Any]] = {
    _INT: yaml.constructor.SafeConstructor.construct_yaml_int,
    _FLOAT: yaml.constructor.SafeConstructor.construct_yaml_float,
    _BOOL: yaml.constructor.SafeConstructor.construct_yaml_bool,
    _NULL: _null,
}
"""YAML 1.1 scalars, built by SafeConstructor's own functions (ints with 0x/0o/_/base 60,
.inf/.nan floats, yes/no/on/off booleans)."""
_TAGGED: dict[str, Callable[[_PlainBuilder, Node], Any]] = {
    _YAML + "timestamp": _text,
    _YAML + "binary": _text,
    _YAML + "set": _members,
    _YAML + "omap": _pairs,
    _YAML + "pairs": _pairs,
    PYTHON_TAG + "tuple": _untagged,
}

Problems = list[tuple[int | None, str]]
"""(1-based line or None, what is wrong) for each part of a document that was not read."""


def parse_yaml(text: str) -> tuple[Any, Problems]:
    """The first document of `text` as plain data, and the problems met. A document PyYAML
    refuses is read again one top-level entry at a time: the entries that load are kept, each
    refused one is a problem at its line. Never raises."""
    problems: Problems = []
    try:
        return _load_first(text, problems), problems
    except yaml.YAMLError as error:
        whole = _problem(error)
    except _NotPlain as error:
        whole = (None, str(error))
    except RecursionError:
        return None, [(None, "nested too deeply, not read")]
    value = _load_by_entry(text, problems)
    return value, problems or [whole]


def _load_first(text: str, problems: Problems) -> Any:
    for loader_class in _LOADERS[:-1]:
        try:
            return _load_with(loader_class, text, problems)
        except yaml.YAMLError:
            continue  # the pure-Python parser decides (and words the problem)
    return _load_with(_LOADERS[-1], text, problems)


def _load_with(loader_class: type[_PlainBuilder], text: str, problems: Problems) -> Any:
    loader: Any = loader_class(text)
    try:
        if not loader.check_node():
            return None
        node = loader.get_node()
        try:
            value = loader.construct_document(node)
        except (ConstructorError, _NotPlain, RecursionError):
            if not isinstance(node, MappingNode):
                raise
            value = _build_by_entry(loader, node, problems)
        try:
            more = loader.check_node()
        except yaml.YAMLError:
            more = True
        if more:
            problems.append((None, "only the first YAML document is read"))
        return value
    finally:
        loader.dispose()


def _build_by_entry(loader: Any, node: MappingNode, problems: Problems) -> dict[str, Any]:
    """The entries of a parsed top-level mapping built one by one (aliases still resolve): an
    entry that cannot be built (a cycle, an alias bomb, a bad merge) is a problem at its line.
    The MAX_NODES budget is shared; a refused entry gives back what it used."""
    try:
        loader.flatten_mapping(node)
    except ConstructorError as error:
        problems.append(_problem(error))
    result: dict[str, Any] = {}
    loader.built = 0
    for key_node, value_node in node.value:
        before = loader.built
        loader.open_nodes = set()
        try:
            if key_node.tag == _YAML + "merge":
                raise ConstructorError(None, None, "a `<<` merge that is not a mapping", None)
            if isinstance(key_node, ScalarNode):
                name: str = key_node.value
            else:
                name = json.dumps(loader.build(key_node), default=str)
            result[name] = loader.build(value_node)
        except (ConstructorError, _NotPlain, RecursionError) as error:
            loader.built = before
            if isinstance(error, ConstructorError):
                message = _problem(error)[1]
            else:
                message = str(error) if isinstance(error, _NotPlain) else "nested too deeply"
            problems.append((key_node.start_mark.line + 1, message))
    return result


def _problem(error: yaml.YAMLError) -> tuple[int | None, str]:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        message = error.problem or error.context or "invalid YAML"
        if error.context and error.problem:
            message = f"{error.problem} ({error.context})"
        return (mark.line + 1 if mark is not None else None), message
    return None, str(error) or type(error).__name__


def _entry_starts(lines: list[str]) -> tuple[list[int], int]:
    """Where each top-level `key:` entry starts, and the line where the first document ends.
    Not a start: a blank, indented or comment line, a list item (yaml.dump writes a key's
    items at the key's column), a directive, the `: value` of a `? key`, a `---` marker."""
    starts: list[int] = []
    for index, line in enumerate(lines):
        if line.startswith(("---", "...")):
            if starts:
                return starts, index
            continue
        first = line[:1]
        if first in ("", " ", "#", "-", "\r", "%") or (first == ":" and line[1:2] in " \t\r"):
            continue
        starts.append(index)
    return starts, len(lines)


def _load_by_entry(text: str, problems: Problems) -> Any:
    lines = text.split("\n")
    starts, end = _entry_starts(lines)
    if not starts:
        return None
    result: dict[str, Any] = {}
    for position, start in enumerate(starts):
        stop = starts[position + 1] if position + 1 < len(starts) else end
        # Line breaks in front keep PyYAML's line numbers those of the file.
        entry = "\n" * start + "\n".join(lines[start:stop])
        try:
            value = _load_first(entry, problems)
        except yaml.YAMLError as error:
            problems.append(_problem(error))
            continue
        except _NotPlain as error:
            problems.append((start + 1, str(error)))
            continue
        except RecursionError:
            problems.append((start + 1, "nested too deeply, skipped"))
            continue
        if isinstance(value, dict):
            result.update(value)
        elif value is not None:
            problems.append((start + 1, "expected `key: value`, skipped"))
    if any(line.strip() for line in lines[end + 1 :]):
        problems.append((end + 1, "only the first YAML document is read"))
    return result


__all__ = [
    "CONFIG_NAMES",
    "ConfigLoader",
    "flatten",
    "parse_yaml",
    "read_config",
    "read_small_file",
    "unwrap_wandb",
]
