"""TFRecord framing, CRCs and the damage rules of read_events, on files by real writers."""

from __future__ import annotations

import struct
from pathlib import Path

import google_crc32c
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core import writers
from tuiboard.core import crc as crcmod
from tuiboard.core import tfrecord as tfr
from tuiboard.core.tfevents import read_events


def walk(data: bytes) -> list[tuple[int, int]]:
    """Reference framing: (start, length) of every complete record, one at a time."""
    out = []
    p = 0
    while p + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, p)
        if p + 16 + length > len(data):
            break
        out.append((p, length))
        p += 16 + length
    return out


def tbx_scalars(tmp_path: Path, steps: int = 200, tags: int = 5) -> Path:
    from tensorboardX import SummaryWriter

    w = SummaryWriter(str(tmp_path), flush_secs=3600)
    for step in range(steps):
        for k in range(tags):
            w.add_scalar(f"tag{'x' * k}/{k}", step * 0.5 + k, step)
        if step % 50 == 0:
            w.add_histogram("h", np.arange(100.0) + step, step)
    w.close()
    return writers.only_file(tmp_path)


def test_framing_matches_record_walk_and_tensorboard(tmp_path: Path) -> None:
    path = tbx_scalars(tmp_path)
    data = path.read_bytes()
    framing = tfr.frame_records(data)
    assert list(zip(framing.starts.tolist(), framing.lengths.tolist(), strict=True)) == walk(data)
    assert framing.end == len(data) and framing.need == 0 and framing.fatal_offset is None
    assert len(framing.starts) == len(writers.tb_events(path))
    assert tfr.verify_data_crcs(data, framing).all()


@settings(max_examples=60, deadline=None)
@given(
    pattern=st.lists(st.integers(0, 40), min_size=1, max_size=20),
    repeats=st.integers(1, 60),
    breaks=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 300)), max_size=8),
)
def test_predicted_framing_equals_walk(
    pattern: list[int], repeats: int, breaks: list[tuple[int, int]]
) -> None:
    """Periodic record lengths with irregular records inserted: the prediction never skips or
    invents a record."""
    lengths = pattern * repeats
    for at, length in sorted(breaks, reverse=True):
        lengths.insert(min(at, len(lengths)), length)
    data = b"".join(frame(bytes([i % 251]) * n) for i, n in enumerate(lengths))
    framing = tfr.frame_records(data)
    assert list(zip(framing.starts.tolist(), framing.lengths.tolist(), strict=True)) == walk(data)
    assert framing.end == len(data)
    assert tfr.verify_data_crcs(data, framing).all()


@settings(max_examples=60, deadline=None)
@given(
    pattern=st.lists(st.integers(0, 40), min_size=1, max_size=20),
    repeats=st.integers(1, 300),
    breaks=st.lists(st.tuples(st.integers(0, 6000), st.integers(0, 300)), max_size=8),
    cuts=st.lists(st.integers(1, 4000), min_size=1, max_size=12),
    skew=st.integers(0, 3),
)
def test_walker_carried_across_chunks_equals_walk(
    pattern: list[int],
    repeats: int,
    breaks: list[tuple[int, int]],
    cuts: list[int],
    skew: int,
) -> None:
    """The loader hands one Walker from a chunk's framing to the next chunk's (resuming where
    the last complete record ended, or, ``skew``, a few records earlier as a retried tail
    does): every chunk is framed as a fresh walk would frame it."""
    lengths = pattern * repeats
    for at, length in sorted(breaks, reverse=True):
        lengths.insert(min(at, len(lengths)), length)
    data = b"".join(frame(bytes([i % 251]) * n) for i, n in enumerate(lengths))
    want = walk(data)
    walker = tfr.Walker()
    offset = 0
    got: list[tuple[int, int]] = []
    k = 0
    while offset < len(data):
        size = cuts[k % len(cuts)]
        k += 1
        while True:
            piece = data[offset : offset + size]
            fresh = tfr.frame_records(piece)
            framing = tfr.frame_records(piece, walker=walker)
            assert framing.starts.tolist() == fresh.starts.tolist()
            assert framing.lengths.tolist() == fresh.lengths.tolist()
            assert (framing.end, framing.need, framing.fatal_offset) == (
                fresh.end,
                fresh.need,
                fresh.fatal_offset,
            )
            if framing.end:
                break
            size = framing.need  # one record longer than the piece: the loader reads more
        starts, lengths = framing.starts.tolist(), framing.lengths.tolist()
        records = [(offset + s, n) for s, n in zip(starts, lengths, strict=True)]
        end = framing.end
        if skew and len(records) > skew and k % 2:
            records = records[:-skew]  # a retried tail: the next chunk starts earlier
            end = records[-1][0] - offset + 16 + records[-1][1]
        got.extend(records)
        offset += end
    assert got == want


def frame(payload: bytes) -> bytes:
    return writers.frame(payload)


@settings(max_examples=50, deadline=None)
@given(rows=st.integers(1, 40), length=st.integers(0, 80), seed=st.integers(0, 2**32 - 1))
def test_batch_crc_equals_google_crc32c(rows: int, length: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    mat = rng.integers(0, 256, (rows, length), dtype=np.uint8)
    if rows > 2:
        mat[1:, : length // 2] = mat[0, : length // 2]  # shared bytes, like a template
    expected = [google_crc32c.value(r.tobytes()) for r in mat]
    assert crcmod.crc32c_rows(mat).tolist() == expected
    if length >= 8:
        buf = np.frombuffer(mat.tobytes(), dtype=np.uint8)
        starts = np.arange(rows, dtype=np.int64) * length
        rows = tfr.gather_rows(buf, starts, length)
        assert np.array_equal(rows[:, :length], mat) and not rows[:, length:].any()
        assert tfr.group_crc(rows, length).tolist() == expected
    masked = crcmod.mask_array(np.array(expected, dtype=np.uint32)).tolist()
    assert masked == [writers.masked_crc(r.tobytes()) for r in mat]
    assert all(crcmod.unmask(crcmod.mask(c)) == c for c in expected)


def test_cut_at_every_byte_of_last_record_then_completed(tmp_path: Path) -> None:
    path = tbx_scalars(tmp_path, steps=20, tags=3)
    data = path.read_bytes()
    records = walk(data)
    last_start, last_len = records[-1]
    full = read_events(data, 0, "f", {})
    total = sum(len(c) for c in full.parsed.scalars.values()) + len(full.parsed.values)
    for cut in range(last_start, len(data)):
        part = read_events(data[:cut], 0, "f", {}, at_eof=True)
        assert part.consumed == last_start
        assert not part.fatal and not part.parsed.warnings
        got = sum(len(c) for c in part.parsed.scalars.values()) + len(part.parsed.values)
        assert got == total - 1
        if cut == last_start:
            expected_need = 0
        elif cut - last_start >= 12:
            expected_need = 16 + last_len
        else:
            expected_need = 16
        assert part.need == expected_need
        rest = read_events(data[last_start:], last_start, "f", {})
        assert rest.consumed == len(data) - last_start and rest.parsed.records == 1


def test_bad_length_crc_is_fatal_with_offset(tmp_path: Path) -> None:
    data = bytearray(tbx_scalars(tmp_path, steps=10, tags=2).read_bytes())
    start, _ = walk(bytes(data))[5]
    data[start + 8] ^= 0x01
    res = read_events(bytes(data), 1000, "f.tfevents", {})
    assert res.fatal and res.consumed == start
    assert res.parsed.records == 5
    assert [(w.file, w.offset) for w in res.parsed.warnings] == [("f.tfevents", 1000 + start)]


def test_bad_data_crc_skips_one_record_and_warns(tmp_path: Path) -> None:
    path = tbx_scalars(tmp_path, steps=300, tags=3)
    data = bytearray(path.read_bytes())
    records = walk(bytes(data))
    victim = 400  # deep in the fast path
    start, length = records[victim]
    data[start + 12 + length - 1] ^= 0x40  # the value's last byte
    res = read_events(bytes(data), 0, "f", {})
    good = read_events(path.read_bytes(), 0, "f", {})
    assert not res.fatal and res.consumed == len(data)
    assert len(res.parsed.warnings) == 1
    warning = res.parsed.warnings[0]
    assert warning.offset == start
    step = writers.tb_events(path)[victim].step
    assert f"step {step}" in warning.message
    n_good = sum(len(c) for c in good.parsed.scalars.values())
    n_bad = sum(len(c) for c in res.parsed.scalars.values())
    assert n_bad == n_good - 1


def test_last_record_bad_crc_at_eof_is_retried(tmp_path: Path) -> None:
    path = tbx_scalars(tmp_path, steps=30, tags=2)
    clean = path.read_bytes()
    data = bytearray(clean)
    start, _length = walk(clean)[-1]
    data[start + 12 + 3] ^= 0x01
    first = read_events(bytes(data), 0, "f", {}, at_eof=True)
    assert first.consumed == start and not first.parsed.warnings and not first.fatal
    # not the file's end (a chunk): skipped and warned now
    mid = read_events(bytes(data), 0, "f", {}, at_eof=False)
    assert mid.consumed == len(data) and len(mid.parsed.warnings) == 1
    # the file grew past it: the retry skips it with a warning and reads what follows
    grown = bytes(data) + frame(writers.scalar_event("late", 99, 1.5))
    again = read_events(grown[start:], start, "f", {}, at_eof=True)
    assert again.consumed == len(grown) - start
    assert [w.offset for w in again.parsed.warnings] == [start]
    assert again.parsed.scalars["late"].step.tolist() == [99]
    # and the healthy file reads the record
    ok = read_events(clean[start:], start, "f", {})
    assert ok.parsed.records == 1 and not ok.parsed.warnings


def test_length_beyond_data_is_a_record_being_written() -> None:
    header = struct.pack("<Q", 1 << 40)
    data = (
        frame(writers.scalar_event("a", 1, 2.0))
        + header
        + struct.pack("<I", writers.masked_crc(header))
    )
    res = read_events(data, 0, "f", {})
    assert res.consumed == len(data) - 12
    assert res.need == 16 + (1 << 40)
    assert not res.fatal and not res.parsed.warnings
    assert res.parsed.scalars["a"].value.tolist() == [2.0]


def test_chunked_reads_equal_one_read(tmp_path: Path) -> None:
    """The loader's chunk protocol: consumed/need across chunk boundaries loses nothing."""
    path = tbx_scalars(tmp_path, steps=100, tags=4)
    data = path.read_bytes()
    whole = read_events(data, 0, "f", {})
    for chunk in (100, 1000, 4096):
        offset = 0
        steps: dict[str, list[int]] = {}
        values = 0
        while offset < len(data):
            piece = data[offset : offset + chunk]
            res = read_events(piece, offset, "f", {}, at_eof=offset + len(piece) >= len(data))
            if res.consumed == 0:
                assert res.need > len(piece)
                piece = data[offset : offset + res.need]
                res = read_events(piece, offset, "f", {}, at_eof=True)
                assert res.consumed == len(piece)
            for tag, col in res.parsed.scalars.items():
                steps.setdefault(tag, []).extend(col.step.tolist())
            values += len(res.parsed.values)
            assert not res.parsed.warnings
            offset += res.consumed
        assert steps == {t: c.step.tolist() for t, c in whole.parsed.scalars.items()}
        assert values == len(whole.parsed.values)


def test_many_damaged_records_are_summed_up_and_fatal_still_said() -> None:
    records = [bytearray(frame(writers.scalar_event("a", i, 1.0))) for i in range(300)]
    for r in records[:250]:
        r[-5] ^= 1  # data CRC fails
    data = b"".join(bytes(r) for r in records)
    cut = len(data)
    data += b"\x05" + bytes(15)  # a header whose length CRC fails
    res = read_events(data, 0, "f", {})
    assert res.fatal and res.consumed == cut
    warnings = res.parsed.warnings
    assert len(warnings) == 102
    assert "150 more damaged records" in warnings[100].message
    assert warnings[-1].offset == cut and "length CRC" in warnings[-1].message
    assert res.parsed.scalars["a"].step.tolist() == list(range(250, 300))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0, 3, 7, 8, 9, 30, 38, 200, 256, 257, 9795, 2**40]), max_size=120))
def test_length_groups_equal_a_plain_loop(lengths: list[int]) -> None:
    """Groups of one small length with at least MIN_GROUP records, in file order; every other
    index (too small, too big, too rare) in file order."""
    by: dict[int, list[int]] = {}
    for i, n in enumerate(lengths):
        by.setdefault(n, []).append(i)
    want = sorted(
        (n, idx)
        for n, idx in by.items()
        if 8 <= n <= tfr.SMALL_RECORD and len(idx) >= tfr.MIN_GROUP
    )
    rest = sorted(i for n, idx in by.items() if (n, idx) not in want for i in idx)
    groups, others = tfr.length_groups(np.array(lengths, dtype=np.int64))
    assert [(n, g.tolist()) for n, g in groups] == want
    assert others.tolist() == rest and others.dtype == np.int64
