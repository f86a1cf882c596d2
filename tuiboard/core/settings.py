"""The user's settings file: the app's look and chart choices, kept between runs of the app.

Owns: `Settings` (what is kept), where the file lives (`settings_path`: XDG_CONFIG_HOME, else
~/.config, then tuiboard/settings.toml; TUIBOARD_NO_SETTINGS=1 turns it off), reading it
(`load_settings`: never raises; a damaged file or a bad value is a warning and the defaults) and
writing it (`save_settings`: a temporary file in the same directory, then an atomic rename, so a
crash mid-write leaves the old file whole).

The file is a flat TOML table that the app writes and people may edit:

    palette = "okabe-ito"
    theme = "textual-light"
    smoothing = 0.6
    x_axis = "step"
    run_panel_width = 32
    logs_height = 35

It is read with tomllib (Python 3.11+) and, on 3.10, with `parse_flat_toml`, enough for the
`key = value` lines written here (no new dependency). Names (palette, theme, x axis) are checked
by the app, which knows them; this module checks types and ranges only.
Must not import: textual, rich, tuiboard.render, tuiboard.ui (it is plain file I/O).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

DISABLE_ENV = "TUIBOARD_NO_SETTINGS"
"""Set (to anything but "" or "0") to neither read nor write the settings file."""
FILE_NAME = "settings.toml"
MAX_BYTES = 64 * 1024
"""A larger file is not ours: refused with a warning."""

SMOOTHING_RANGE = (0.0, 0.999)
RUN_PANEL_WIDTH_RANGE = (12, 120)
"""Cells."""
LOGS_HEIGHT_RANGE = (10, 90)
"""Percent of the height under the tabs."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What the app keeps between runs; None: not set, the app's default applies."""

    palette: str | None = None
    """A run-colour palette name (render/theme.py PALETTES)."""
    theme: str | None = None
    """A Textual theme name ("textual-dark", "textual-light", ...)."""
    smoothing: float | None = None
    """EMA weight in SMOOTHING_RANGE."""
    x_axis: str | None = None
    """"step", "relative", "wall" or "metric"."""
    run_panel_width: int | None = None
    """Cells, in RUN_PANEL_WIDTH_RANGE."""
    logs_height: int | None = None
    """Percent, in LOGS_HEIGHT_RANGE."""


_NAMES = ("palette", "theme", "x_axis")
_RANGES: dict[str, tuple[float, float]] = {
    "smoothing": SMOOTHING_RANGE,
    "run_panel_width": RUN_PANEL_WIDTH_RANGE,
    "logs_height": LOGS_HEIGHT_RANGE,
}
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")


def settings_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where the settings file is, or None when TUIBOARD_NO_SETTINGS turns it off.

    XDG_CONFIG_HOME is used when set to an absolute path (the XDG spec says to ignore a
    relative one), else ~/.config."""
    env = os.environ if environ is None else environ
    if env.get(DISABLE_ENV, "") not in ("", "0"):
        return None
    base = env.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "tuiboard" / FILE_NAME


def load_settings(path: Path) -> tuple[Settings, list[str]]:
    """The settings in `path` and what was wrong with it (each a sentence for the user).

    No file: the defaults and no warning. An unreadable or unparsable file: the defaults and one
    warning. A value of the wrong type or out of range: that setting's default and a warning,
    the other settings kept. Unknown keys are ignored (a newer tuiboard may have written them)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return Settings(), []
    except OSError as e:
        return Settings(), [f"settings file {path} unreadable ({e.strerror or e}): defaults used"]
    if len(data) > MAX_BYTES:
        return Settings(), [f"settings file {path} is over {MAX_BYTES} bytes: defaults used"]
    try:
        table = parse_toml(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return Settings(), [f"settings file {path} is damaged ({e}): defaults used"]
    values: dict[str, object] = {}
    warnings: list[str] = []
    for f in fields(Settings):
        if f.name not in table:
            continue
        value, problem = _check(f.name, table[f.name])
        if problem is not None:
            warnings.append(f"settings file {path}: {f.name} {problem}: default used")
        else:
            values[f.name] = value
    return Settings(**values), warnings  # type: ignore[arg-type]


def _check(name: str, value: object) -> tuple[object, str | None]:
    """(the value as Settings holds it, None) or (None, what is wrong with it)."""
    if name in _NAMES:
        if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
            return None, f"= {_show(value)} is not a name"
        return value, None
    low, high = _RANGES[name]
    is_int = name != "smoothing"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, f"= {_show(value)} is not a number"
    if is_int and not (isinstance(value, int) or float(value).is_integer()):
        return None, f"= {_show(value)} is not a whole number"
    if not math.isfinite(value) or not low <= value <= high:
        return None, f"= {_show(value)} is outside {low:g}-{high:g}"
    return (int(value) if is_int else float(value)), None


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def dump_settings(settings: Settings) -> str:
    """The file's text: a comment, then one `key = value` line per setting that is set."""
    lines = [
        "# tuiboard settings, written by the app when you change them; safe to edit or delete."
    ]
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if value is None:
            continue
        if isinstance(value, str):
            text = _basic_string(value)
        elif isinstance(value, float):
            text = repr(value)
        else:
            text = str(value)
        lines.append(f"{f.name} = {text}")
    return "\n".join(lines) + "\n"


def _basic_string(value: str) -> str:
    """A TOML basic string: quotes and backslashes escaped, control characters as \\uXXXX."""
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def save_settings(path: Path, settings: Settings) -> None:
    """Write `settings` to `path` atomically: a temporary file beside it, flushed to disk, then
    renamed over it (readers see the old file or the new one, never half of one). Creates the
    directory. Raises OSError (the caller tells the user); no temporary file is left behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(dump_settings(settings))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # already renamed or gone: nothing left to clean
            os.unlink(tmp)
        raise


def parse_toml(text: str) -> dict[str, object]:
    """A TOML document's top-level table: tomllib where Python has it, else `parse_flat_toml`.
    ValueError when the text is not TOML (or, on 3.10, not flat TOML)."""
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(str(e)) from None
    return parse_flat_toml(text)


_LINE_RE = re.compile(
    r"""\s*(?P<key>[A-Za-z0-9_-]+)\s*=\s*
        (?P<value>"(?:[^"\\\x00-\x1f]|\\.)*"|'[^'\x00-\x1f]*'|[^#\s]+)
        \s*(?:\#.*)?""",
    re.VERBOSE,
)


def parse_flat_toml(text: str) -> dict[str, object]:
    """The subset of TOML this module writes, for Python 3.10 (no tomllib): comments, blank
    lines and `key = value` lines whose value is a string (basic or literal), a boolean, an
    integer or a float. Anything else (tables, arrays, dates, multi-line strings, a key given
    twice) is a ValueError naming the line."""
    table: dict[str, object] = {}
    for number, line in enumerate(text.split("\n"), 1):  # not splitlines(): NEL is not a newline
        line = line.removesuffix("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE_RE.fullmatch(line)
        if m is None:
            raise ValueError(f"line {number} is not `key = value`")
        key, raw = m["key"], m["value"]
        if key in table:
            raise ValueError(f"line {number}: {key} given twice")
        table[key] = _scalar(raw, number)
    return table


def _scalar(raw: str, number: int) -> object:
    if raw.startswith('"'):
        try:
            return str(json.loads(raw))
        except ValueError:
            raise ValueError(f"line {number}: bad string") from None
    if raw.startswith("'"):
        return raw[1:-1]
    if raw in ("true", "false"):
        return raw == "true"
    plain = raw.replace("_", "")
    if re.fullmatch(r"[+-]?\d+", plain):
        return int(plain)
    if re.fullmatch(r"[+-]?(\d+(\.\d+)?([eE][+-]?\d+)?|inf|nan)", plain):
        return float(plain)
    raise ValueError(f"line {number}: {raw[:20]!r} is not a string, number or boolean")
