"""Audio: clips written by real writers, read by tuiboard, compared with TensorBoard's reader and
with the samples the writer was given; the waveform's peaks; malformed clips.

Owns: the tests of tuiboard/render/audio.py. Must not import: textual.

Writers: tensorboardX's SummaryWriter.add_audio (its WAV comes from soundfile, 16-bit PCM),
soundfile for every other sample format (8/16/24/32-bit PCM, 32/64-bit float, plain and
WAVE_FORMAT_EXTENSIBLE), and tensorboard's EventFileWriter for the TF2 form (a [k, 2] string
tensor of WAV + label with the audio plugin's metadata, tests/audiomesh.py: tf.summary.audio
needs TensorFlow). Reference: EventAccumulator.Audio() and .Tensors() + tensor_util.make_ndarray
for the bytes, soundfile.read as an independent decoder, the written arrays for the samples.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st

import tuiboard
from tests.audiomesh import TF2_LABELS, pcm16_wav, tf2_audio_value, write_events
from tests.reference import accumulate
from tuiboard.core.types import AUDIO, AudioValue
from tuiboard.render.audio import audio_card, decode_wav, time_axis, waveform
from tuiboard.render.theme import default_theme

T0 = 1_700_000_000.0
PLAIN = default_theme(color=False)


def dots(text: str) -> set[tuple[int, int]]:
    """The lit braille dots of a drawing as (x, y), from Unicode's braille dot numbering
    (dots 1-3 and 7 down the left column, 4-6 and 8 down the right)."""
    where = {0x01: (0, 0), 0x02: (0, 1), 0x04: (0, 2), 0x40: (0, 3)}
    where |= {0x08: (1, 0), 0x10: (1, 1), 0x20: (1, 2), 0x80: (1, 3)}
    out = set()
    for row, line in enumerate(text.split("\n")):
        for col, ch in enumerate(line):
            bits = ord(ch) - 0x2800
            if 0 < bits < 256:
                for bit, (dx, dy) in where.items():
                    if bits & bit:
                        out.add((2 * col + dx, 4 * row + dy))
    return out


def test_tensorboardx_add_audio_equals_tensorboards_reader_and_the_samples(tmp_path: Path) -> None:
    from tensorboardX import SummaryWriter

    t = np.arange(3000) / 16000
    mono = [0.9 * np.sin(2 * np.pi * (200 + 100 * s) * t) * np.exp(-2 * t) for s in range(3)]
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 300 * t), -0.25 * np.cos(2 * np.pi * 50 * t)], 1)
    with SummaryWriter(str(tmp_path / "run"), flush_secs=3600) as w:
        for step, x in enumerate(mono):
            w.add_audio("speech/mono", x, step * 5, sample_rate=16000, walltime=T0 + step)
        w.add_audio("speech/stereo", stereo, 7, sample_rate=22050, walltime=T0)
    run = tuiboard.open(str(tmp_path)).run("run")
    assert run is not None
    acc = accumulate(tmp_path / "run")
    for tag, written in (("speech/mono", mono), ("speech/stereo", [stereo])):
        ours = run.values(AUDIO, tag)
        theirs = acc.Audio(tag)
        assert len(ours) == len(theirs) == len(written)
        for v, e, x in zip(ours, theirs, written, strict=True):
            assert isinstance(v, AudioValue)
            assert (v.step, v.wall_time) == (e.step, e.wall_time)
            assert v.clips == (e.encoded_audio_string,)
            assert v.sample_rate == e.sample_rate and v.length_frames == e.length_frames
            assert v.content_type == e.content_type == "audio/wav"
            wav = decode_wav(v.clips[0])
            assert not isinstance(wav, str)
            expected = x if x.ndim == 2 else x[:, None]
            assert wav.rate == e.sample_rate and wav.frames == e.length_frames
            assert wav.channels == v.num_channels == expected.shape[1]
            assert (wav.bits, wav.encoding) == (16, "PCM")
            # 16-bit PCM: within the quantisation step of what the writer was given.
            np.testing.assert_allclose(wav.samples, expected, rtol=0, atol=2 / 32768)


FORMATS = [
    ("WAV", "PCM_U8", 8, "PCM", 2 / 128),
    ("WAV", "PCM_16", 16, "PCM", 2 / 32768),
    ("WAV", "PCM_24", 24, "PCM", 2 / 2**23),
    ("WAV", "PCM_32", 32, "PCM", 1e-7),
    ("WAV", "FLOAT", 32, "float", 0.0),
    ("WAV", "DOUBLE", 64, "float", 1e-7),
    ("WAVEX", "PCM_24", 24, "PCM", 2 / 2**23),
    ("WAVEX", "FLOAT", 32, "float", 0.0),
]


@pytest.mark.parametrize(("container", "subtype", "bits", "encoding", "atol"), FORMATS)
def test_every_sample_format_decodes_to_the_written_samples(
    tmp_path: Path, container: str, subtype: str, bits: int, encoding: str, atol: float
) -> None:
    rng = np.random.default_rng(bits)
    x = np.clip(rng.normal(0, 0.3, (1234, 3)), -0.99, 0.99).astype(np.float32)
    out = io.BytesIO()
    soundfile.write(out, x, 11025, format=container, subtype=subtype)
    data = out.getvalue()
    # Logged as tf.summary.audio would log it, then read back through the store.
    write_events(tmp_path / "run", [(1, T0, tf2_audio_value("clip", [data], [""]))])
    (value,) = tuiboard.open(str(tmp_path)).run("run").values(AUDIO, "clip")  # type: ignore[union-attr]
    assert isinstance(value, AudioValue) and value.clips == (data,)
    wav = decode_wav(value.clips[0])
    assert not isinstance(wav, str)
    assert (wav.rate, wav.channels, wav.frames, wav.bits, wav.encoding) == (
        11025,
        3,
        1234,
        bits,
        encoding,
    )
    np.testing.assert_allclose(wav.samples, x, rtol=0, atol=atol)
    independent, rate = soundfile.read(io.BytesIO(data), dtype="float64", always_2d=True)
    assert rate == 11025
    np.testing.assert_allclose(wav.samples, independent, rtol=0, atol=1e-7)


def test_tf2_audio_tensor_clips_and_labels_equal_tensorboards(tmp_path: Path) -> None:
    from tensorboard.util import tensor_util

    t = np.arange(2000) / 8000
    low = np.stack([0.5 * np.sin(2 * np.pi * 110 * t), 0.25 * np.sin(2 * np.pi * 110 * t)], 1)
    high = np.stack([0.3 * np.sin(2 * np.pi * 1760 * t), -0.6 * np.sin(2 * np.pi * 1760 * t)], 1)
    clips = [pcm16_wav(low), pcm16_wav(high)]
    value = tf2_audio_value("voice", clips, list(TF2_LABELS), "Two *clips*")
    write_events(tmp_path / "tf2", [(3, T0, value)])
    run = tuiboard.open(str(tmp_path)).run("tf2")
    assert run is not None
    acc = accumulate(tmp_path / "tf2")
    (event,) = acc.Tensors("voice")
    cells = tensor_util.make_ndarray(event.tensor_proto)
    assert cells.shape == (2, 2)
    (ours,) = run.values(AUDIO, "voice")
    assert isinstance(ours, AudioValue)
    assert ours.step == event.step == 3
    assert ours.clips == tuple(cells[:, 0])
    assert ours.labels == tuple(c.decode() for c in cells[:, 1]) == TF2_LABELS
    meta = run.metadata("voice")
    assert meta is not None
    assert meta.description == acc.SummaryMetadata("voice").summary_description == "Two *clips*"
    for data, written in zip(ours.clips, (low, high), strict=True):
        wav = decode_wav(data)
        assert not isinstance(wav, str)
        assert (wav.rate, wav.channels, wav.frames) == (8000, 2, 2000)
        np.testing.assert_allclose(wav.samples, written, rtol=0, atol=2 / 32768)
    # The card shows the label literally (Markdown and markup inert), with the clip's facts.
    card = audio_card(ours, 0, 60, 8, "#ff8700", PLAIN).plain
    assert "a *low* hum" in card
    assert "0.25 s · 8000 Hz · stereo · 16-bit PCM · peak -6.0 dBFS" in card


def test_a_single_sample_spike_keeps_its_column_at_full_height() -> None:
    """A million silent frames with one sample at +1 and one at -1: the columns holding them
    reach the top and the bottom edge, every other column shows only the silent centre line."""
    n, cols, rows = 1_000_000, 40, 6
    up, down = 123_457, 876_543
    x = np.zeros(n, dtype=np.float32)
    x[up], x[down] = 1.0, -1.0
    out = io.BytesIO()
    soundfile.write(out, x, 48000, format="WAV", subtype="FLOAT")
    wav = decode_wav(out.getvalue())
    assert not isinstance(wav, str)
    text = waveform(wav, cols, rows, "#ff8700", PLAIN).plain
    lit = dots(text)
    w, h = 2 * cols, 4 * rows
    centre = h // 2  # amplitude 0 sits on the lower of the two middle dot rows
    per_column = n // w  # 12,500 frames per dot column
    col_up, col_down = up // per_column, down // per_column
    assert {(col_up, y) for y in range(0, centre + 1)} <= lit
    assert {(col_down, y) for y in range(centre, h)} <= lit
    others = {(x_, y) for x_, y in lit if x_ not in (col_up, col_down)}
    assert others == {(x_, centre) for x_ in range(w) if x_ not in (col_up, col_down)}


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 99_999), st.sampled_from([7, 13, 40, 80]))
def test_any_spike_survives_downsampling(k: int, cols: int) -> None:
    x = np.zeros(100_000, dtype=np.float32)
    x[k] = 1.0
    out = io.BytesIO()
    soundfile.write(out, x, 8000, format="WAV", subtype="FLOAT")
    wav = decode_wav(out.getvalue())
    assert not isinstance(wav, str)
    lit = dots(waveform(wav, cols, 3, "", PLAIN).plain)
    assert (min(x_ for x_, y in lit if y == 0), 0) in lit  # some column reaches the top...
    tops = {x_ for x_, y in lit if y == 0}
    assert len(tops) == 1  # ...exactly one: the one holding frame k (equal shares of frames)
    (top,) = tops
    assert top * 100_000 // (2 * cols) <= k < (top + 1) * 100_000 // (2 * cols)


def test_short_clip_is_a_line_through_its_samples_and_channels_get_lanes() -> None:
    x = np.array([[0.5, -0.5]] * 4 + [[-0.5, 0.5]] * 4, dtype=np.float32)  # 8 frames, 2 ch.
    out = io.BytesIO()
    soundfile.write(out, x, 8000, format="WAV", subtype="FLOAT")
    wav = decode_wav(out.getvalue())
    assert not isinstance(wav, str)
    lit = dots(waveform(wav, 20, 8, "", PLAIN).plain)  # two lanes of 4 lines (16 dot rows)
    # Amplitude a in a 16-row lane sits on row round((1 - a) / 2 * 15): 0.5 -> 4, -0.5 -> 11.
    left_lane = {(x_, y) for x_, y in lit if y < 16}
    right_lane = {(x_, y - 16) for x_, y in lit if y >= 16}
    assert (0, 4) in left_lane and (39, 11) in left_lane
    assert (0, 11) in right_lane and (39, 4) in right_lane
    # A line: every dot column of each lane has a dot (no gaps between the 8 samples).
    assert {x_ for x_, _ in left_lane} == set(range(40)) == {x_ for x_, _ in right_lane}


def test_time_axis_labels() -> None:
    line = time_axis(0.5, 60, PLAIN).plain
    assert len(line) == 60 and line.startswith("0 ") and line.endswith("0.5s")
    assert "0.2s" in line
    assert time_axis(125.0, 60, PLAIN).plain.endswith("2m05s")


def riff(fmt: bytes, data: bytes, *, declared: int | None = None) -> bytes:
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data) if declared is None else declared) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def pcm_fmt(channels: int = 1, rate: int = 8000, width: int = 2, fmt: int = 1) -> bytes:
    block = channels * width
    return struct.pack("<HHIIHH", fmt, channels, rate, rate * block, block, 8 * width)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no audio data"),
        (b"OggS\x00\x02" + b"\x00" * 40, "not a WAV file"),
        (b"RIFX" + b"\x00" * 40, "big-endian"),
        (b"RIFF\x10\x00\x00\x00WAVEdata\x00\x00\x00\x00", "without a format chunk"),
        (b"RIFF\x10\x00\x00\x00WAVE" + b"fmt " + struct.pack("<I", 16) + pcm_fmt(), "data"),
        (riff(pcm_fmt(fmt=0x11), b"\x00" * 64), "not PCM or float"),
        (riff(pcm_fmt(channels=0), b"\x00" * 64), "channels"),
        (riff(pcm_fmt(width=5), b"\x00" * 64), "40-bit"),
        (riff(pcm_fmt(width=2, fmt=3), b"\x00" * 64), "16-bit float"),
    ],
)
def test_malformed_clips_give_a_reason_and_a_mark(data: bytes, reason: str) -> None:
    wav = decode_wav(data)
    assert isinstance(wav, str) and reason in wav
    value = AudioValue(5, T0, 8000.0, 1, 100, "audio/wav", (data,))
    card = audio_card(value, 0, 50, 8, "#ff8700", default_theme()).plain
    assert "⚠ cannot decode" in card and "8000 Hz" in card


def test_a_clip_cut_short_shows_the_frames_it_has() -> None:
    samples = (np.arange(100, dtype="<i2") * 300).tobytes()
    data = riff(pcm_fmt(), samples[:151], declared=200)  # half a frame at the end too
    wav = decode_wav(data)
    assert not isinstance(wav, str)
    assert wav.frames == 75 and wav.truncated
    np.testing.assert_array_equal(wav.samples[:, 0], np.arange(75) * 300 / 32768)
    assert (
        "cut short"
        in audio_card(AudioValue(0, T0, 8000, 1, 100, "", (data,)), 0, 80, 5, "", PLAIN).plain
    )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.integers(0, 200), st.integers(0, 255))
def test_damaged_wav_never_raises(junk: bytes, at: int, byte: int) -> None:
    good = bytearray(pcm16_wav(np.sin(np.arange(100) / 3.0) * 0.5))
    good[at % len(good)] = byte
    for data in (bytes(good), bytes(good[:at]), bytes(good[:at]) + junk):
        value = AudioValue(0, T0, 8000, 1, 100, "audio/wav", (data,))
        out = audio_card(value, 0, 30, 6, "#ff8700", default_theme())
        assert all(len(line) == 30 for line in out.plain.split("\n"))


def test_float_clip_with_nan_and_inf_draws_within_its_box() -> None:
    x = np.zeros(5000, dtype=np.float32)
    x[100:200] = np.nan  # a share of nothing but NaN, next to silence
    x[1000], x[3000], x[4000] = np.inf, -np.inf, 2.5  # off the scale: clipped to the edges
    out = io.BytesIO()
    soundfile.write(out, x, 8000, format="WAV", subtype="FLOAT")
    wav = decode_wav(out.getvalue())
    assert not isinstance(wav, str) and np.isnan(wav.samples[150, 0])
    text = waveform(wav, 50, 4, "", PLAIN).plain
    assert [len(line) for line in text.split("\n")] == [50] * 4
    lit = dots(text)
    column = {x_ for x_, _ in lit}
    assert column == set(range(100))  # every column has a dot: NaN-only ones sit at 0
    assert (4000 * 100 // 5000, 0) in lit and (3000 * 100 // 5000, 15) in lit
