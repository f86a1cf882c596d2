"""TensorBoard's own readers, the reference every test compares tuiboard against."""

from __future__ import annotations

import os

from tensorboard.backend.event_processing import event_accumulator


def accumulate(path: str | os.PathLike[str]) -> event_accumulator.EventAccumulator:
    """TensorBoard's Python reader (EventAccumulator) with every value of every kind kept."""
    acc = event_accumulator.EventAccumulator(
        str(path), size_guidance={k: 0 for k in event_accumulator.DEFAULT_SIZE_GUIDANCE}
    )
    acc.Reload()
    return acc
