"""`run.config` and `run.summary` of tuiboard's logging API, as wandb's behave.

Owns: Config (item and attribute access, `update` from dicts and argparse namespaces; marks the
run's config dirty so the flusher rewrites config.json) and Summary (a dict-like view of the
run's summary under the run's lock). Must not import: textual, rich, numpy, tuiboard.core.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from tuiboard.sdk_media import clean_row

if TYPE_CHECKING:
    from tuiboard.sdk_run import Run


class Config(MutableMapping[str, Any]):
    """W&B's run.config: item and attribute access (`config.lr`, `config["lr"]`), `update`
    (dicts, argparse namespaces), `setdefaults`, `as_dict`. Changes are written to the run's
    config.json by the flusher."""

    def __init__(self, run: Run | None = None) -> None:
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_items", {})

    def _changed(self) -> None:
        run = self._run
        if run is not None:
            run._config_dirty = True

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._items[str(key)] = value
        self._changed()

    def __delitem__(self, key: str) -> None:
        del self._items[key]
        self._changed()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._items[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def update(self, other: Any = (), allow_val_change: bool | None = None, **kw: Any) -> None:  # type: ignore[override]
        """Set every key of a mapping, an argparse Namespace (or any object with __dict__)."""
        if other is None:
            other = {}
        if not isinstance(other, Mapping) and hasattr(other, "__dict__"):
            other = vars(other)
        self._items.update(dict(other), **kw)
        self._changed()

    def setdefaults(self, d: Mapping[str, Any]) -> None:
        for k, v in d.items():
            self._items.setdefault(str(k), v)
        self._changed()

    def as_dict(self) -> dict[str, Any]:
        return dict(self._items)

    def __repr__(self) -> str:
        return f"Config({self._items!r})"


class Summary(MutableMapping[str, Any]):
    """W&B's run.summary: the last value logged under each key unless set here (a later log of
    the key replaces it again, as in wandb 0.31)."""

    def __init__(self, run: Run) -> None:
        self._run = run

    def __getitem__(self, key: str) -> Any:
        with self._run._lock:
            return self._run._summary[key]

    def __setitem__(self, key: str, value: Any) -> None:
        row, _media, _nested = clean_row({key: value})
        with self._run._lock:
            self._run._summary[key] = row[key]
            self._run._meta_dirty = True

    def __delitem__(self, key: str) -> None:
        with self._run._lock:
            del self._run._summary[key]
            self._run._meta_dirty = True

    def __iter__(self) -> Iterator[str]:
        with self._run._lock:
            return iter(list(self._run._summary))

    def __len__(self) -> int:
        return len(self._run._summary)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def update(self, other: Any = (), **kw: Any) -> None:  # type: ignore[override]
        row, _media, _nested = clean_row({**dict(other), **kw})
        with self._run._lock:
            self._run._summary.update(row)
            self._run._meta_dirty = True

    def __repr__(self) -> str:
        with self._run._lock:
            return f"Summary({self._run._summary!r})"
