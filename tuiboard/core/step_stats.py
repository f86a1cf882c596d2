"""The step stats of a RunMetadata (Event.tagged_run_metadata, TF2's graph_run_metadata):
what each node cost when the graph ran, as TensorBoard's graph dashboard shows it.

Owns: `NodeStats` and `decode_step_stats` (StepStats.dev_stats[].node_stats[], wire-decoded).
Must not import: textual, rich, protobuf, or tuiboard modules other than core.wire and
core.graph_attrs.
"""

from __future__ import annotations

from dataclasses import dataclass

from tuiboard.core import wire
from tuiboard.core.graph_attrs import Shape, decode_shape
from tuiboard.core.wire import LEN, VARINT


@dataclass(slots=True)
class NodeStats:
    """What a RunMetadata's step stats say about one node (TensorBoard's NodeStats)."""

    device: str
    start_micros: int
    end_micros: int
    """all_start_micros + all_end_rel_micros (the latest of the node's entries)."""
    memory_bytes: int
    """Sum of the total_bytes of its allocations."""
    output_shapes: list[Shape]

    @property
    def compute_micros(self) -> int:
        return self.end_micros - self.start_micros


def decode_step_stats(blob: bytes) -> dict[str, NodeStats]:
    """RunMetadata.step_stats: node name -> its stats, entries of one node combined as
    TensorBoard combines them (earliest start, latest end, bytes summed)."""
    out: dict[str, NodeStats] = {}
    for fno, wt, a, c in wire.fields(blob, 0, len(blob)):
        if fno != 1 or wt != LEN:
            continue
        for f2, w2, a2, c2 in wire.fields(blob, a, c):
            if f2 != 1 or w2 != LEN:
                continue
            device = ""
            entries: list[tuple[int, int]] = []
            for f3, w3, a3, c3 in wire.fields(blob, a2, c2):
                if f3 == 1 and w3 == LEN:
                    device = wire.text_at(blob, a3, c3)
                elif f3 == 2 and w3 == LEN:
                    entries.append((a3, c3))
            for a3, c3 in entries:
                _node_exec(blob, a3, c3, device, out)
    return out


def _node_exec(b: bytes, a: int, c: int, device: str, out: dict[str, NodeStats]) -> None:
    name = ""
    start = end_rel = 0
    start_ns = end_rel_ns = 0
    memory = 0
    shapes: list[Shape] = []
    for fno, wt, a2, c2 in wire.fields(b, a, c):
        if wt == VARINT:
            if fno == 2:
                start = wire.signed64(a2)
            elif fno == 5:
                end_rel = wire.signed64(a2)
            elif fno == 13:
                start_ns = wire.signed64(a2)
            elif fno == 16:
                end_rel_ns = wire.signed64(a2)
        elif wt == LEN:
            if fno == 1:
                name = wire.text_at(b, a2, c2)
            elif fno == 6:
                for f3, w3, a3, _ in wire.fields(b, a2, c2):
                    if f3 == 2 and w3 == VARINT and wire.signed64(a3) > 0:
                        memory += wire.signed64(a3)
            elif fno == 7:
                for f3, w3, a3, c3 in wire.fields(b, a2, c2):
                    if f3 == 3 and w3 == LEN:
                        for f4, w4, a4, c4 in wire.fields(b, a3, c3):
                            if f4 == 2 and w4 == LEN:
                                shapes.append(decode_shape(b, a4, c4))
    if not start and start_ns:
        start = start_ns // 1000
    if not end_rel and end_rel_ns:
        end_rel = end_rel_ns // 1000
    end = start + max(0, end_rel)
    have = out.get(name)
    if have is None:
        out[name] = NodeStats(device, start, end, memory, shapes)
        return
    have.start_micros = min(have.start_micros, start)
    have.end_micros = max(have.end_micros, end)
    have.memory_bytes += memory
    if not have.output_shapes:
        have.output_shapes = shapes
