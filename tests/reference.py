"""TensorBoard's own readers, the reference every test compares tuiboard against."""

from __future__ import annotations

import os

import numpy as np
from tensorboard.backend.event_processing import event_accumulator


def accumulate(path: str | os.PathLike[str]) -> event_accumulator.EventAccumulator:
    """TensorBoard's Python reader (EventAccumulator) with every value of every kind kept."""
    acc = event_accumulator.EventAccumulator(
        str(path), size_guidance={k: 0 for k in event_accumulator.DEFAULT_SIZE_GUIDANCE}
    )
    acc.Reload()
    return acc


class Projector:
    """TensorBoard's projector plugin on a logdir (a multiplexer as its data provider), asked
    through its own HTTP routes: what TensorBoard serves the projector's frontend."""

    def __init__(self, logdir: str | os.PathLike[str]) -> None:
        from tensorboard.backend.event_processing import data_provider
        from tensorboard.backend.event_processing import plugin_event_multiplexer as em
        from tensorboard.plugins import base_plugin
        from tensorboard.plugins.projector import projector_plugin

        multiplexer = em.EventMultiplexer()
        multiplexer.AddRunsFromDirectory(str(logdir))
        multiplexer.Reload()
        provider = data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
        context = base_plugin.TBContext(
            logdir=str(logdir), data_provider=provider, multiplexer=multiplexer
        )
        self.plugin = projector_plugin.ProjectorPlugin(context)
        self.routes = self.plugin.get_plugin_apps()

    def embeddings(self, run: str) -> list[object]:
        """The run's ProjectorConfig embeddings, as the plugin completed them (shapes)."""
        assert run in self.runs()
        return list(self.plugin._configs[run].embeddings)

    def get(self, route: str, **args: str) -> bytes:
        from urllib.parse import urlencode

        from werkzeug.test import Client

        response = Client(self.routes[route]).get("/?" + urlencode(args))
        assert response.status_code == 200, response.get_data()
        return response.get_data()

    def runs(self) -> list[str]:
        import json

        return list(json.loads(self.get("/runs")))

    def tensor(self, run: str, name: str, dims: int) -> np.ndarray:
        """The tensor as the plugin serves it: float32 bytes, `dims` values a row."""
        return np.frombuffer(self.get("/tensor", run=run, name=name), np.float32).reshape(-1, dims)

    def metadata(self, run: str, name: str) -> str:
        return self.get("/metadata", run=run, name=name).decode("utf-8")

    def sprite(self, run: str, name: str) -> bytes:
        return self.get("/sprite_image", run=run, name=name)
