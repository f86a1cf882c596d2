"""The dashboards, registered once: every part of tuiboard that lists, opens or prints a kind
reads this table (TensorBoard's frontend keeps one plugin registry the same way).

Owns: `Dashboard` and `DASHBOARDS`, in tab order. The tab bar, `--tab`, the command palette,
the digit keys, `plot --kind` and `export --kind` all read it; adding a dashboard is one entry
here plus its `render/K.py` and `ui/widgets/K_view.py`, with no branch in app.py or cli.py.
Views and renderers are named as "module:attribute" and imported only when used, so the
headless commands never load Textual and the app never loads a renderer it does not show.
Must not import: textual, rich, numpy (cli.py imports this to build its parser).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

CONFIG = "config"
"""Pseudo data kind: some run has a config (JSONL/YAML/W&B) — enough for the HParams tab."""


@dataclass(frozen=True, slots=True)
class Dashboard:
    name: str
    """The kind's name in `ls --json`, `--tab NAME` and `plot --kind NAME`."""
    title: str
    """The tab's label."""
    view: str
    """"module:Class" of the tab's widget (under tuiboard.ui)."""
    shown_by: tuple[str, ...] = ()
    """Data kinds whose presence in any loaded run shows the tab; () = always shown."""
    plot: str | None = None
    """"module:function" taking a PlotRequest and returning the blocks to print (None: plot
    has its own code path for this kind: scalars, histograms)."""
    plot_kinds: tuple[str, ...] = ()
    """Extra names `plot --kind` accepts for this dashboard (distributions)."""

    def present(self, kinds: set[str]) -> bool:
        """Whether the tab is shown, given the data kinds found in the loaded runs."""
        return not self.shown_by or any(k in kinds for k in self.shown_by)

    def load_view(self) -> Any:
        return _load(self.view)

    def load_plot(self) -> Any:
        return None if self.plot is None else _load(self.plot)


def _load(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


DASHBOARDS: tuple[Dashboard, ...] = (
    Dashboard("scalars", "Scalars", "tuiboard.ui.widgets.scalars_view:ScalarsView"),
    Dashboard(
        "histograms",
        "Histograms",
        "tuiboard.ui.widgets.histograms_view:HistogramsView",
        shown_by=("histograms",),
        plot_kinds=("distributions",),
    ),
    Dashboard("overview", "Overview", "tuiboard.ui.widgets.overview:OverviewView"),
    Dashboard(
        "images",
        "Images",
        "tuiboard.ui.widgets.images_view:ImagesView",
        shown_by=("images",),
        plot="tuiboard.render.images:plot_blocks",
    ),
    Dashboard(
        "text",
        "Text",
        "tuiboard.ui.widgets.text_view:TextView",
        shown_by=("text",),
        plot="tuiboard.render.text:plot_blocks",
    ),
    Dashboard(
        "pr_curves",
        "PR curves",
        "tuiboard.ui.widgets.pr_curves_view:PrCurvesView",
        shown_by=("pr_curves",),
        plot="tuiboard.render.pr_curves:plot_blocks",
    ),
    Dashboard(
        "hparams",
        "HParams",
        "tuiboard.ui.widgets.hparams_view:HParamsView",
        shown_by=("hparams", CONFIG),
        plot="tuiboard.render.hparams:plot_blocks",
    ),
    Dashboard(
        "graph",
        "Graph",
        "tuiboard.ui.widgets.graph_view:GraphView",
        shown_by=("graph", "graph_keras_model", "graph_run_metadata", "graph_run_metadata_graph"),
        plot="tuiboard.render.graph:plot_blocks",
    ),
    Dashboard(
        "embeddings",
        "Embeddings",
        "tuiboard.ui.widgets.embeddings_view:EmbeddingsView",
        shown_by=("embeddings",),
        plot="tuiboard.render.embeddings:plot_blocks",
    ),
    Dashboard(
        "audio",
        "Audio",
        "tuiboard.ui.widgets.audio_view:AudioView",
        shown_by=("audio",),
        plot="tuiboard.render.audio:plot_blocks",
    ),
    Dashboard(
        "mesh",
        "Mesh",
        "tuiboard.ui.widgets.mesh_view:MeshView",
        shown_by=("mesh",),
        plot="tuiboard.render.mesh:plot_blocks",
    ),
    Dashboard(
        "custom_scalars",
        "Custom scalars",
        "tuiboard.ui.widgets.custom_scalars_view:CustomScalarsView",
        shown_by=("custom_scalars",),
        plot="tuiboard.render.custom_scalars:plot_blocks",
    ),
)

BY_NAME: dict[str, Dashboard] = {d.name: d for d in DASHBOARDS}


def tab_names() -> list[str]:
    return [d.name for d in DASHBOARDS]


def plot_kind_names() -> list[str]:
    """Every name `plot --kind` takes, in tab order."""
    out: list[str] = []
    for d in DASHBOARDS:
        if d.name != "overview":
            out.append(d.name)
        out.extend(d.plot_kinds)
    return out


def dashboard(name: str) -> Dashboard:
    """The dashboard named `name` (KeyError: not one; the caller lists `tab_names()`)."""
    return BY_NAME[name]
