"""Audio and mesh logdirs written by real writers, for the Audio and Mesh dashboards' tests.

Owns: `write_audiomesh_runs` (what the tests, snapshots, CLI and tmux tests read) and the two
forms tensorboardX cannot write, built exactly as TensorBoard's own code builds them:
`tf2_audio_value` (tf.summary.audio's [k, 2] string tensor of WAV + label, with the audio
plugin's metadata) and `tb_mesh_summary` (tensorboard.plugins.mesh.summary_v2.mesh_pb, whose
code needs TensorFlow only for the dtypes: faces int32, colours uint8).
Writers: tensorboardX's SummaryWriter.add_audio (WAV through soundfile, the [test] extra) and
add_mesh; tensorboard's EventFileWriter for the protos above. Must not import textual.
"""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import numpy as np

T0 = 1_795_690_000.0
AM_RUNS = ("cnn", "mlp")
AM_STEPS = (0, 10, 20)
RATE = 8000
TF2_RUN = "tf2"
TF2_LABELS = ("a *low* hum", "a high whistle")
CUBE = np.array(
    [[x, y, z] for x in (-1.0, 1.0) for y in (-1.0, 1.0) for z in (-1.0, 1.0)], dtype=np.float32
)
"""The 8 corners of the cube [-1, 1]^3, vertex i = (bit 2, bit 1, bit 0) of i as -1/+1."""
CUBE_FACES = np.array(
    [
        [a, b, c]
        for q in (
            (0, 1, 3, 2),
            (4, 6, 7, 5),
            (0, 4, 5, 1),
            (2, 3, 7, 6),
            (0, 2, 6, 4),
            (1, 5, 7, 3),
        )
        for a, b, c in ((q[0], q[1], q[2]), (q[0], q[2], q[3]))
    ],
    dtype=np.int32,
)
"""12 triangles, two per face of CUBE, counter-clockwise seen from outside (three.js's front)."""


def tone(j: int, k: int, frames: int = 4000) -> np.ndarray:
    """A decaying tone, a different pitch per step j and run k, amplitude below 0.8."""
    t = np.arange(frames) / RATE
    return (0.8 * np.exp(-3 * t) * np.sin(2 * np.pi * (220 + 110 * j + 55 * k) * t)).astype(
        np.float32
    )


def pcm16_wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    """What tf.audio.encode_wav writes: 16-bit PCM, samples [frames, channels] in [-1, 1]."""
    if samples.ndim == 1:
        samples = samples[:, None]
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.round(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out.getvalue()


def tf2_audio_value(
    tag: str, clips: list[bytes], labels: list[str], description: str = ""
) -> object:
    """A TF2 audio summary value: a [k, 2] string tensor (clip, label) with AudioPluginData
    {encoding: WAV} metadata, as tensorboard.plugins.audio.summary_v2.audio writes it."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.audio import metadata
    from tensorboard.util import tensor_util

    cells = np.array(
        [[c, lab.encode()] for c, lab in zip(clips, labels, strict=True)], dtype=object
    )
    value = summary_pb2.Summary.Value(tag=tag)
    value.tensor.CopyFrom(tensor_util.make_tensor_proto(cells))
    value.metadata.CopyFrom(
        metadata.create_summary_metadata(
            display_name=None, description=description, encoding=metadata.Encoding.Value("WAV")
        )
    )
    return value


def tb_mesh_summary(
    name: str,
    vertices: np.ndarray,
    faces: np.ndarray | None = None,
    colors: np.ndarray | None = None,
    config_dict: dict[str, object] | None = None,
) -> object:
    """tensorboard.plugins.mesh.summary_v2.mesh_pb, line for line, with numpy dtypes in place
    of tf.float32 / tf.int32 / tf.uint8 (mesh_pb itself imports TensorFlow for them)."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.compat.tensorflow_stub import dtypes
    from tensorboard.plugins.mesh import metadata
    from tensorboard.plugins.mesh import plugin_data_pb2 as pd
    from tensorboard.util import tensor_util

    json_config = json.dumps(config_dict, sort_keys=True) if config_dict is not None else "{}"
    tensors = [
        metadata.MeshTensor(vertices, pd.MeshPluginData.VERTEX, dtypes.float32),
        metadata.MeshTensor(faces, pd.MeshPluginData.FACE, dtypes.int32),
        metadata.MeshTensor(colors, pd.MeshPluginData.COLOR, dtypes.uint8),
    ]
    tensors = [t for t in tensors if t.data is not None]
    components = metadata.get_components_bitmask([t.content_type for t in tensors])
    summary = summary_pb2.Summary()
    for t in tensors:
        summary.value.add(
            tag=metadata.get_instance_name(name, t.content_type),
            metadata=metadata.create_summary_metadata(
                name, None, t.content_type, components, list(t.data.shape), None,
                json_config=json_config,
            ),
            tensor=tensor_util.make_tensor_proto(t.data, dtype=t.data_type),
        )  # fmt: skip
    return summary


def write_events(run_dir: Path, items: list[tuple[int, float, object]]) -> None:
    """(step, wall_time, Summary or Summary.Value) as events, through EventFileWriter."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(run_dir), filename_suffix=".tb")
    for step, wall, item in items:
        ev = event_pb2.Event(step=step, wall_time=wall)
        if isinstance(item, summary_pb2.Summary):
            ev.summary.CopyFrom(item)
        else:
            ev.summary.value.append(item)  # type: ignore[arg-type]
        w.add_event(ev)
    w.close()


def cube_colors(j: int) -> np.ndarray:
    """A colour per cube corner: its position as RGB, changing with the step j."""
    return ((CUBE + 1) / 2 * (255 - 40 * j)).astype(np.uint8)


def write_audiomesh_runs(root: Path) -> None:
    """Runs "cnn" and "mlp" by tensorboardX: per step an add_audio tone and an add_mesh cube
    (vertices scaled with the step, corner colours, 12 faces, a config_dict); run "tf2" by
    TensorBoard's protos: a TF2 audio tensor of two labelled stereo clips with a description,
    and a coloured point cloud of two samples (`cloud`) and a tetrahedron (`tetra`)."""
    from tensorboardX import SummaryWriter

    for k, run in enumerate(AM_RUNS):
        with SummaryWriter(str(root / run), flush_secs=1) as w:
            for j, step in enumerate(AM_STEPS):
                wall = T0 + k * 7 + j * 3.5
                w.add_audio("sound/tone", tone(j, k), step, sample_rate=RATE, walltime=wall)
                w.add_mesh(
                    "shape/cube",
                    CUBE[None] * (1 + 0.25 * j),
                    colors=cube_colors(j)[None],
                    faces=CUBE_FACES[None],
                    config_dict={"camera": {"cls": "PerspectiveCamera", "fov": 75}},
                    global_step=step,
                    walltime=wall,
                )
    rng = np.random.default_rng(3)
    t = np.arange(2400) / RATE
    low = np.stack([0.5 * np.sin(2 * np.pi * 110 * t), 0.25 * np.sin(2 * np.pi * 110 * t)], 1)
    high = np.stack([0.3 * np.sin(2 * np.pi * 1760 * t), -0.6 * np.sin(2 * np.pi * 1760 * t)], 1)
    angle = rng.random((2, 300)) * 2 * np.pi
    height = rng.random((2, 300)) * 2 - 1
    cloud = np.stack([np.cos(angle), height, np.sin(angle)], -1).astype(np.float32)
    cloud_rgb = np.stack(
        [((height + 1) * 127).astype(np.uint8)] * 2 + [np.full((2, 300), 200, np.uint8)], -1
    )
    tetra = np.array([[[1, 1, 1], [-1, -1, 1], [-1, 1, -1], [1, -1, -1]]], dtype=np.float32)
    tetra_faces = np.array([[[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]]], dtype=np.int32)
    items: list[tuple[int, float, object]] = []
    for j, step in enumerate(AM_STEPS):
        wall = T0 + 20 + j * 3.5
        clips = [pcm16_wav(low * (1 - 0.2 * j)), pcm16_wav(high)]
        items.append((step, wall, tf2_audio_value("voice", clips, list(TF2_LABELS), "Two clips")))
        items.append((step, wall, tb_mesh_summary("cloud", cloud, colors=cloud_rgb)))
        items.append((step, wall, tb_mesh_summary("tetra", tetra * (1 + j), faces=tetra_faces)))
    write_events(root / TF2_RUN, items)
