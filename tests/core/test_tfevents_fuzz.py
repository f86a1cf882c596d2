"""Hypothesis: random bytes, truncations and bit flips into read_events never raise, never
allocate by a length field, and never consume more than they were given."""

from __future__ import annotations

import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core import writers
from tuiboard.core import types as t
from tuiboard.core.tfevents import EventsRead, read_events


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A small file with every kind: tensorboardX's main file + the TF2 file, concatenated."""
    d = tmp_path_factory.mktemp("fuzz")
    writers.write_tbx_all(d / "tbx", steps=11)
    tbx = next(p for p in writers.event_files(d / "tbx") if p.parent == d / "tbx")
    tf2 = writers.write_tf2(d / "tf2")
    return tbx.read_bytes() + tf2.read_bytes()


def records(data: bytes) -> list[tuple[int, int]]:
    out = []
    p = 0
    while p + 16 <= len(data):
        (n,) = struct.unpack_from("<Q", data, p)
        out.append((p, n))
        p += 16 + n
    return out


def check(res: EventsRead, data: bytes) -> None:
    assert 0 <= res.consumed <= len(data)
    assert res.need >= 0
    parsed = res.parsed
    assert parsed.records >= 0
    for col in parsed.scalars.values():
        assert col.step.dtype == np.int64 and col.wall_time.dtype == np.float64
        assert col.value.dtype in (np.float32, np.float64)
        assert len(col.step) == len(col.wall_time) == len(col.value) == len(col.seq)
        assert np.all(np.diff(col.seq) >= 0)
    for kind, tag, seq, rec in parsed.values:
        assert isinstance(kind, str) and isinstance(tag, str) and isinstance(seq, int)
        assert rec is not None
    for w in parsed.warnings:
        assert isinstance(w, t.ReadWarning) and w.offset is not None


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=400), st.booleans())
def test_random_bytes(data: bytes, at_eof: bool) -> None:
    check(read_events(data, 0, "f", {}, at_eof=at_eof), data)


@FUZZ
@given(st.lists(st.binary(max_size=60), max_size=12), st.data())
def test_random_payloads_in_valid_frames(payloads: list[bytes], draw: st.DataObject) -> None:
    """Good CRCs around garbage: the decoder, not the framing, sees the junk."""
    data = b"".join(writers.frame(p) for p in payloads)
    res = read_events(data, 0, "f", {}, at_eof=draw.draw(st.booleans()))
    check(res, data)
    assert res.consumed == len(data) and res.parsed.records == len(payloads)


@FUZZ
@given(cut=st.integers(0, 10**9))
def test_truncations(sample: bytes, cut: int) -> None:
    data = sample[: cut % (len(sample) + 1)]
    res = read_events(data, 0, "f", {})
    check(res, data)
    assert not res.fatal and not res.parsed.warnings
    ends = [s + 16 + n for s, n in records(sample)]
    assert res.consumed == max([0] + [e for e in ends if e <= len(data)])


@FUZZ
@given(flips=st.lists(st.integers(0, 10**9), min_size=1, max_size=6), reframe=st.booleans())
def test_bit_flips(sample: bytes, flips: list[int], reframe: bool) -> None:
    data = bytearray(sample)
    for f in flips:
        bit = f % (len(data) * 8)
        data[bit // 8] ^= 1 << (bit % 8)
    if reframe:
        # fix every CRC so damaged payloads reach the protobuf decoder
        out = bytearray()
        p = 0
        for start, n in records(sample):
            payload = bytes(data[start + 12 : start + 12 + n])
            out += writers.frame(payload)
            p = start + 16 + n
        data = out + data[p:]
    blob = bytes(data)
    tags: dict[str, t.TagMeta] = {}
    check(read_events(blob, 0, "f", tags), blob)
    check(read_events(blob, 0, "f", tags, at_eof=False), blob)


@FUZZ
@given(length=st.integers(64, 2**64 - 1), junk=st.binary(max_size=40))
def test_huge_length_fields_allocate_nothing(length: int, junk: bytes) -> None:
    header = struct.pack("<Q", length)
    data = writers.frame(writers.scalar_event("a", 1, 1.0)) + header
    data += struct.pack("<I", writers.masked_crc(header)) + junk
    tracemalloc.start()
    try:
        res = read_events(data, 0, "f", {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    check(res, data)
    assert peak < 1 << 20
    assert res.need == 16 + length and res.consumed == len(data) - 12 - len(junk)


def ld(field: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    out = bytearray([field << 3 | 2])
    n = len(payload)
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + payload


PLUGINS = [
    "",
    "scalars",
    "histograms",
    "images",
    "audio",
    "text",
    "pr_curves",
    "hparams",
    "mesh",
    "custom_scalars",
    "other",
]


@FUZZ
@given(
    plugin=st.sampled_from(PLUGINS),
    content=st.binary(max_size=60),
    form=st.sampled_from([4, 5, 6, 8, 0]),
    payload=st.binary(max_size=80),
)
def test_random_plugin_content_and_payloads(
    plugin: str, content: bytes, form: int, payload: bytes
) -> None:
    """Hand-encoded Summary.Value with junk where each kind's decoder looks."""
    meta = ld(1, ld(1, plugin.encode()) + ld(2, content))
    value = ld(1, b"tag") + (ld(form, payload) if form else b"") + ld(9, meta)
    event = b"\x09" + struct.pack("<d", 1.5) + b"\x10\x07" + ld(5, ld(1, value))
    data = writers.frame(event) * 3
    res = read_events(data, 0, "f", {})
    check(res, data)
    assert res.consumed == len(data)


def test_sample_itself_reads_clean(sample: bytes, tmp_path: Path) -> None:
    res = read_events(sample, 0, "f", {})
    assert res.consumed == len(sample) and not res.parsed.warnings


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ntags=st.integers(1, 6),
    taglen=st.integers(1, 12),
    nrec=st.integers(1, 400),
    seed=st.integers(0, 2**32 - 1),
    periodic=st.booleans(),
    corrupt=st.lists(st.integers(0, 399), max_size=3),
)
def test_scalar_fast_path_equals_protobuf(
    ntags: int, taglen: int, nrec: int, seed: int, periodic: bool, corrupt: list[int]
) -> None:
    """Scalar Events of equal-length tags (the template path), with big and negative steps,
    absent wall times, float32 and float64 tensors, and a few damaged records: every point
    equals what the protobuf library reads from the undamaged records."""
    from tensorboard.compat.proto import event_pb2

    rng = np.random.default_rng(seed)
    tags = [f"{k:0{taglen}d}"[-taglen:] + "é" * (k % 2) for k in range(ntags)]
    payloads = []
    for i in range(nrec):
        tag = tags[i % ntags] if periodic else tags[int(rng.integers(ntags))]
        step = int(rng.choice([i // ntags, -i, 2**40 + i, 0]))
        wall = float(rng.choice([0.0, 1.7e9 + i * 0.5]))
        ev = event_pb2.Event(step=step, wall_time=wall)
        if tag.startswith("0") and ntags > 2:
            v = ev.summary.value.add(tag=tag)
            v.tensor.dtype = 2
            v.tensor.tensor_shape.SetInParent()
            v.tensor.tensor_content = np.float64(rng.standard_normal()).tobytes()
        else:
            ev.summary.value.add(tag=tag, simple_value=float(rng.standard_normal()))
        payloads.append(ev.SerializeToString())
    frames = [bytearray(writers.frame(p)) for p in payloads]
    damaged = {c for c in corrupt if c < nrec - 1}
    for c in damaged:
        frames[c][-5] ^= 0x10  # the payload's last byte: data CRC fails
    res = read_events(b"".join(frames), 0, "f", {})
    expected: dict[str, list[tuple[int, float, float]]] = {}
    for i, p in enumerate(payloads):
        if i in damaged:
            continue
        ev = event_pb2.Event.FromString(p)
        for v in ev.summary.value:
            value = (
                v.simple_value
                if v.WhichOneof("value") == "simple_value"
                else float(np.frombuffer(v.tensor.tensor_content, "<f8")[0])
            )
            expected.setdefault(v.tag, []).append((ev.step, ev.wall_time, value))
    got = {
        tag: list(zip(c.step.tolist(), c.wall_time.tolist(), c.value.tolist(), strict=True))
        for tag, c in res.parsed.scalars.items()
    }
    assert got == expected
    assert len(res.parsed.warnings) == len(damaged)


@FUZZ
@given(chunk=st.integers(1, 6000))
def test_any_chunking_reads_like_one_read(sample: bytes, chunk: int) -> None:
    """The loader's protocol (read a chunk; when nothing is consumed read ``need`` bytes) gives
    the same points, values and sessions as one read of the whole file."""
    whole = read_events(sample, 0, "f", {})
    tags: dict[str, t.TagMeta] = {}
    offset = 0
    steps: dict[str, list[int]] = {}
    values: list[tuple[str, str]] = []
    sessions = 0
    while offset < len(sample):
        size = chunk
        res = read_events(sample[offset : offset + size], offset, "f", tags, at_eof=False)
        while res.consumed == 0 and offset + size < len(sample):
            size = max(res.need, size + 1)
            piece = sample[offset : offset + size]
            res = read_events(piece, offset, "f", tags, at_eof=offset + size >= len(sample))
        assert res.consumed > 0 and not res.parsed.warnings and not res.fatal
        for tag, col in res.parsed.scalars.items():
            steps.setdefault(tag, []).extend(col.step.tolist())
        values.extend((k, tg) for k, tg, _, _ in res.parsed.values)
        sessions += len(res.parsed.sessions)
        offset += res.consumed
    assert steps == {tag: c.step.tolist() for tag, c in whole.parsed.scalars.items()}
    assert values == [(k, tg) for k, tg, _, _ in whole.parsed.values]
    assert sessions == len(whole.parsed.sessions)
