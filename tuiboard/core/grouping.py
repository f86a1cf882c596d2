"""Which runs form a group: by a regex on the run name, or by config keys (W&B's "group by").

Owns: `GroupSpec` (how to group and aggregate, parsed from what the user types), `Group` (a
group's name and its runs), `group_runs`, `regex_key`, `config_key`, and `arrange` (what a
chart draws in which order: runs alone and groups).
Must not import: textual, rich, tuiboard.render, tuiboard.ui.

By regex (`--group 'seed=\\d+'`): every match of the regex in the run name is cut out (when the
regex has a capture group, only the first group's text of each match), each cut replaced by
"*"; runs whose names are then equal form one group, named by that text: `lr=0.1_seed=1` and
`lr=0.1_seed=2` are the group `lr=0.1_*`. A run the regex does not match (or whose match is
empty) is not grouped: it stays drawn as itself. The search is case-sensitive (Python's `re`).

By config keys (`--group-by lr,optimizer`): runs whose values of those keys are equal form a
group, named `lr=0.1, optimizer=adam`. A key is looked up in the run's config (its config files,
flattened with "/": `model/depth`) and then in its hparams (tensorboardX/torch `add_hparams`);
a run lacking a key has the value "?" for it. A run lacking every key is not grouped.
Values compare by their JSON-like text (1 and 1.0 differ, as they do in the config files).

Groups come in the order of their first run in the order given; a group keeps its runs in
that order.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tuiboard.core.aggregate import BANDS, CENTRES

MISSING = "?"
CONFIG_PREFIX = "cfg:"
"""In the app's prompt, `cfg:lr,optimizer` groups by config keys; any other text is a regex."""


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """How runs are grouped and a group is drawn. Frozen: part of the charts' cache keys."""

    pattern: str = ""
    """The regex on run names ("" when grouping by config keys)."""
    keys: tuple[str, ...] = ()
    """Config keys; used when `pattern` is empty."""
    centre: str = "mean"
    """One of aggregate.CENTRES."""
    band: str = "minmax"
    """One of aggregate.BANDS."""

    def __post_init__(self) -> None:
        if self.centre not in CENTRES:
            raise ValueError(f"unknown centre {self.centre!r} (one of {', '.join(CENTRES)})")
        if self.band not in BANDS:
            raise ValueError(f"unknown band {self.band!r} (one of {', '.join(BANDS)})")
        if self.pattern:
            compile_group_regex(self.pattern)
        elif not self.keys:
            raise ValueError("a grouping needs a regex or config keys")

    def describe(self) -> str:
        """What the user typed, as the prompt takes it back (`cfg:a,b` or the regex)."""
        return self.pattern if self.pattern else CONFIG_PREFIX + ",".join(self.keys)

    @classmethod
    def parse(cls, text: str, centre: str = "mean", band: str = "minmax") -> GroupSpec:
        """`cfg:lr,optimizer` (config keys) or a regex. ValueError says what is wrong."""
        text = text.strip()
        if text.startswith(CONFIG_PREFIX):
            return cls(keys=parse_keys(text[len(CONFIG_PREFIX) :]), centre=centre, band=band)
        return cls(pattern=text, centre=centre, band=band)


def parse_keys(text: str) -> tuple[str, ...]:
    """`lr, optimizer` -> ("lr", "optimizer"); ValueError when no key is given."""
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    if not keys:
        raise ValueError("give config keys separated by commas, e.g. lr,optimizer")
    return keys


def compile_group_regex(pattern: str) -> re.Pattern[str]:
    """The compiled regex; ValueError (with re's message) when it is not one."""
    try:
        return re.compile(pattern)
    except re.error as e:
        raise ValueError(f"bad group regex {pattern!r}: {e}") from None


@dataclass(frozen=True, slots=True)
class Group:
    """Runs grouped together (always at least one)."""

    name: str
    """Untrusted (made of run names or config values): shown through clean()."""
    runs: tuple[str, ...]


def regex_key(name: str, regex: re.Pattern[str]) -> str | None:
    """`name` with each match (its first group's text when the regex has groups) replaced by
    "*"; None when nothing non-empty matched."""
    parts: list[str] = []
    pos = 0
    for m in regex.finditer(name):
        start, end = m.span(1) if regex.groups else m.span()
        if start < 0 or end <= start or start < pos:
            continue  # an empty match, a group that did not take part, or one overlapping
        parts.append(name[pos:start])
        parts.append("*")
        pos = end
    if not parts:
        return None
    parts.append(name[pos:])
    return "".join(parts)


def _value_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def config_key(
    config: Mapping[str, object], hparams: Mapping[str, object], keys: Sequence[str]
) -> str | None:
    """`k1=v1, k2=v2` from the run's config (then hparams); None when it has none of the keys."""
    found = False
    parts = []
    for key in keys:
        if key in config:
            value: object = config[key]
        elif key in hparams:
            value = hparams[key]
        else:
            parts.append(f"{key}={MISSING}")
            continue
        found = True
        parts.append(f"{key}={_value_text(value)}")
    return ", ".join(parts) if found else None


def group_runs(names: Sequence[str], key_of: Callable[[str], str | None]) -> list[Group]:
    """Runs with the same key together; a run whose key is None is left out (not grouped)."""
    members: dict[str, list[str]] = {}
    for name in names:
        key = key_of(name)
        if key is not None:
            members.setdefault(key, []).append(name)
    return [Group(key, tuple(runs)) for key, runs in members.items()]


def arrange(
    runs: Sequence[str], groups: Sequence[Group], expanded: Collection[str] = ()
) -> list[tuple[Group | None, tuple[str, ...]]]:
    """What a chart of `runs` draws, in order: `(None, (run,))` for a run drawn as itself (no
    group takes it, or its group is in `expanded`), `(group, its runs among runs)` for a group
    drawn as one line, at its first run's place. The chart (render/group_series.py) and the
    app's charts (ui/groups.py) both draw in this order."""
    group_of = {run: g for g in groups if g.name not in expanded for run in g.runs}
    present = set(runs)
    out: list[tuple[Group | None, tuple[str, ...]]] = []
    placed: set[str] = set()
    for run in runs:
        g = group_of.get(run)
        if g is None:
            out.append((None, (run,)))
        elif g.name not in placed:
            placed.add(g.name)
            out.append((g, tuple(r for r in g.runs if r in present)))
    return out


def key_function(
    spec: GroupSpec,
    settings_of: Callable[[str], tuple[Mapping[str, object], Mapping[str, object]] | None],
) -> Callable[[str], str | None]:
    """The group key of a run name under `spec`; `settings_of(name)` gives the run's (config,
    hparams), or None for an unknown run (only asked when grouping by config keys)."""
    if spec.pattern:
        regex = compile_group_regex(spec.pattern)
        return lambda name: regex_key(name, regex)
    keys = spec.keys

    def by_config(name: str) -> str | None:
        settings = settings_of(name)
        return None if settings is None else config_key(settings[0], settings[1], keys)

    return by_config


class _HasSettings(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @property
    def hparams(self) -> dict[str, Any]: ...


def settings_lookup(
    runs: Sequence[_HasSettings],
) -> Callable[[str], tuple[Mapping[str, object], Mapping[str, object]] | None]:
    """(config, hparams) by run name, for `key_function`. A run's hparams include those of its
    sub-runs (`run/<anything>`) for keys it does not set itself, the nearest first: tensorboardX
    and torch's `add_hparams` write them into a timestamped sub-run of the writer's run."""
    by_name = {r.name: r for r in runs}
    names = sorted(by_name)
    cache: dict[str, tuple[Mapping[str, object], Mapping[str, object]]] = {}

    def lookup(name: str) -> tuple[Mapping[str, object], Mapping[str, object]] | None:
        hit = cache.get(name)
        if hit is not None:
            return hit
        run = by_name.get(name)
        if run is None:
            return None
        hparams: dict[str, object] = dict(run.hparams)
        prefix = name + "/"
        i = bisect.bisect_left(names, prefix)
        subs = []
        while i < len(names) and names[i].startswith(prefix):
            subs.append(names[i])
            i += 1
        for sub in sorted(subs, key=lambda s: (s.count("/"), s)):
            for key, value in by_name[sub].hparams.items():
                hparams.setdefault(key, value)
        hit = (run.config, hparams)
        cache[name] = hit
        return hit

    return lookup
