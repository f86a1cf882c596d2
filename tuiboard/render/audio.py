"""Audio clips in a terminal: WAV decoding with numpy, a braille waveform that keeps every peak,
and the facts a player would show.

Owns: `Wav` and `decode_wav` (bytes -> samples, or a reason), `envelope`, `waveform`,
`audio_info`, `audio_card` and `plot_blocks` (`plot --kind audio`).
Must not import: textual, tuiboard.ui. No audio library: the WAV container is read here.

Choices, stated once:
- WAV (RIFF, little-endian) with integer PCM of 8 (unsigned), 16, 24 or 32 bits, or IEEE float
  of 32 or 64 bits, plain or WAVE_FORMAT_EXTENSIBLE; anything else is a reason, not a crash.
  Integers are scaled to [-1, 1) by their full scale (x / 2**(bits-1); 8-bit: (x - 128) / 128).
  A data chunk shorter than its header says (a cut file) gives the frames that are there.
- The waveform's scale is fixed, -1 at the bottom to +1 at the top (full scale, as an audio
  editor shows it): a quiet clip looks quiet, a clipped one touches the edges.
- Each braille dot column covers an equal share of the frames and lights every dot from the
  lowest to the highest sample in it (min and max over the whole buffer with numpy's
  reduceat), so a single-sample spike is never lost however long the clip. A clip with fewer
  frames than dot columns is drawn as a line through its samples instead.
- Several channels get a lane each when every lane can have two lines, else one lane with the
  extremes over all channels.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rich.text import Text

from tuiboard.core.types import AUDIO, AudioValue
from tuiboard.render.canvas import Canvas, fit_text, join_lines
from tuiboard.render.numbers import fmt_bytes
from tuiboard.render.plot_request import block_head
from tuiboard.render.raster import BRAILLE_BASE, braille_bits, rasterize
from tuiboard.render.sanitize import clean
from tuiboard.render.theme import Theme

if TYPE_CHECKING:
    from tuiboard.render.plot_request import PlotRequest

_PCM = 1
_FLOAT = 3
_EXTENSIBLE = 0xFFFE
_MARK = "⚠"
MAX_LANES = 8
"""At most this many channels get a lane of their own."""


@dataclass(frozen=True, slots=True)
class Wav:
    """One decoded WAV clip."""

    samples: np.ndarray
    """float32 [frames, channels]; integers scaled to [-1, 1), floats as written."""
    rate: int
    """Frames per second (the header's; 0 when it says 0)."""
    bits: int
    """Bits per sample as stored (8, 16, 24, 32, 64: the container's, from the frame size)."""
    encoding: str
    """"PCM" (integers) or "float"."""
    truncated: bool = False
    """The data chunk holds fewer bytes than its header says (a cut file)."""

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Seconds (0 when the rate is unknown)."""
        return self.frames / self.rate if self.rate > 0 else 0.0


def _samples(raw: bytes, fmt: int, width: int, channels: int) -> np.ndarray | str:
    """Interleaved sample bytes -> float32 [frames, channels] (`width` bytes per sample)."""
    frames = len(raw) // (width * channels)
    buf = np.frombuffer(raw, dtype=np.uint8, count=frames * width * channels)
    if fmt == _FLOAT:
        if width not in (4, 8):
            return f"{8 * width}-bit float samples are not supported"
        x = buf.view("<f4" if width == 4 else "<f8").astype(np.float32)
    elif width == 1:
        x = (buf.astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        x = buf.view("<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = buf.reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = (v << 8) >> 8  # sign-extend the 24-bit value
        x = v.astype(np.float32) / float(1 << 23)
    elif width == 4:
        x = (buf.view("<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)
    else:
        return f"{8 * width}-bit integer samples are not supported"
    return x.reshape(frames, channels)


def decode_wav(data: bytes) -> Wav | str:
    """A WAV clip's samples and format, or a short reason why it cannot be read. Never raises
    on bad input."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        if data[:4] == b"RIFX":
            return "big-endian WAV (RIFX) is not supported"
        return "not a WAV file" if data else "no audio data"
    p = 12
    fmt_body: bytes | None = None
    chunk: tuple[int, int] | None = None
    while p + 8 <= len(data):
        cid = data[p : p + 4]
        (size,) = struct.unpack_from("<I", data, p + 4)
        body = p + 8
        if cid == b"fmt ":
            fmt_body = data[body : body + size]
        elif cid == b"data":
            chunk = (body, size)
            if fmt_body is not None:
                break
        p = body + size + (size & 1)
    if fmt_body is None or len(fmt_body) < 16:
        return "WAV without a format chunk"
    if chunk is None:
        return "WAV without a data chunk"
    fmt, channels, rate, _, block = struct.unpack_from("<HHIIH", fmt_body)
    if fmt == _EXTENSIBLE and len(fmt_body) >= 26:
        (fmt,) = struct.unpack_from("<H", fmt_body, 24)  # the sub-format GUID's first field
    if fmt not in (_PCM, _FLOAT):
        return f"WAV encoding {fmt:#06x} is not PCM or float"
    if channels <= 0 or block <= 0 or block % channels:
        return f"WAV header says {channels} channels in {block}-byte frames"
    width = block // channels
    start, size = chunk
    raw = data[start : start + size]
    samples = _samples(raw, fmt, width, channels)
    if isinstance(samples, str):
        return samples
    return Wav(
        samples,
        int(rate),
        8 * width,
        "float" if fmt == _FLOAT else "PCM",
        truncated=len(raw) < size,
    )


# -- drawing -------------------------------------------------------------------------------------


def envelope(x: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of `x` (1-D, at least `columns` long) over `columns` equal shares of it, in
    order: every sample lies in exactly one share. NaN samples are ignored (fmin/fmax); a share
    of nothing but NaN gives NaN."""
    n = x.shape[0]
    starts = (np.arange(columns, dtype=np.int64) * n) // columns
    return np.fmin.reduceat(x, starts), np.fmax.reduceat(x, starts)


def _dot_row(v: np.ndarray, h: int) -> np.ndarray:
    """Amplitude in [-1, 1] -> dot row (0 = top = +1), clipped."""
    r = np.floor((1.0 - np.clip(v, -1.0, 1.0)) / 2.0 * (h - 1) + 0.5)
    return r.astype(np.int64)


def _lane_dots(x: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """The lit dots (columns, rows) of one lane's waveform of `x` on a w x h dot grid."""
    n = x.shape[0]
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if n < w:  # fewer samples than columns: a line through them
        x = np.nan_to_num(x.astype(np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
        px = np.arange(n, dtype=np.float64) * (w - 1) / max(n - 1, 1)
        py = (1.0 - np.clip(x, -1.0, 1.0)) / 2.0 * (h - 1)
        return rasterize(px, py, w, h)
    # The whole buffer once, in its own float32: only the per-column extremes are widened.
    lo, hi = envelope(x, w)
    lo = np.nan_to_num(lo.astype(np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
    hi = np.nan_to_num(hi.astype(np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
    top = _dot_row(hi, h)
    bottom = _dot_row(lo, h)
    r = np.arange(h, dtype=np.int64)[:, None]
    yi, xi = np.nonzero((r >= top[None, :]) & (r <= bottom[None, :]))
    return xi.astype(np.int64), yi.astype(np.int64)


def waveform(wav: Wav, cols: int, rows: int, colour: str, theme: Theme) -> Text:
    """The clip's waveform in exactly `cols` x `rows` braille cells, in `colour`; a lane per
    channel when each gets two lines or more."""
    cols, rows = max(0, cols), max(0, rows)
    canvas = Canvas(cols, rows)
    if cols == 0 or rows == 0 or wav.frames == 0:
        return canvas.to_text(False)
    channels = min(wav.channels, MAX_LANES)
    lanes = channels if channels > 1 and rows // channels >= 2 else 1
    sid = canvas.style(colour if theme.color else "")
    top = 0
    for k in range(lanes):
        lane_rows = rows // lanes + (1 if k < rows % lanes else 0)
        if lanes == 1 and wav.channels > 1:
            both = wav.samples[:, : wav.channels]
            # Extremes over every channel: interleave each frame's min and max.
            x = np.stack((both.min(axis=1), both.max(axis=1)), axis=1).reshape(-1)
        else:
            x = wav.samples[:, k]
        xi, yi = _lane_dots(x, cols * 2, lane_rows * 4)
        bits = braille_bits(xi, yi, cols, lane_rows)
        codes = np.where(bits != 0, BRAILLE_BASE + bits.astype(np.uint32), 0x20)
        canvas.codes[top : top + lane_rows] = codes
        canvas.style_ids[top : top + lane_rows] = np.where(bits != 0, sid, 0)
        top += lane_rows
    return canvas.to_text(theme.color)


def _seconds(t: float) -> str:
    if t < 60:
        return f"{t:.3g}s"
    m, s = divmod(t, 60)
    return f"{int(m)}m{s:02.0f}s"


def time_axis(duration: float, cols: int, theme: Theme) -> Text:
    """Labels of the clip's time under its waveform: 0 at the left edge, the duration at the
    right, and round times between when they fit."""
    canvas = Canvas(cols, 1)
    sid = canvas.style(theme.faint if theme.color else "")
    if duration <= 0 or cols < 4:
        return canvas.to_text(theme.color)
    end = _seconds(duration)
    canvas.put(0, 0, "0", sid)
    canvas.put(0, cols - len(end), end, sid)
    step = _nice_step(duration / max(1, cols // 12))
    free_from = 2
    t = step
    while t < duration - step / 2:
        label = _seconds(t)
        col = round(t / duration * (cols - 1)) - len(label) // 2
        if col >= free_from and col + len(label) < cols - len(end) - 1:
            canvas.put(0, col, label, sid)
            free_from = col + len(label) + 1
        t += step
    return canvas.to_text(theme.color)


def _nice_step(raw: float) -> float:
    """The round number (1, 2 or 5 times a power of ten) at or above `raw`."""
    if raw <= 0:
        return 1.0
    p = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * p >= raw * (1 - 1e-9):
            return m * p
    return 10 * p


def _channels_text(n: int) -> str:
    return {1: "mono", 2: "stereo"}.get(n, f"{n} channels")


def audio_info(value: AudioValue, index: int, wav: Wav | str | None = None) -> str:
    """One line about clip `index`: "0.50 s · 8000 Hz · mono · 16-bit PCM · peak -6.0 dBFS ·
    8.0 kB", from the WAV header when it can be read, else from the summary's numbers."""
    if not 0 <= index < len(value.clips):
        return f"no clip {index + 1}"
    data = value.clips[index]
    if wav is None:
        wav = decode_wav(data)
    if isinstance(wav, str):
        rate, ch, frames = value.sample_rate, value.num_channels, value.length_frames
        dur = f"{frames / rate:.2f} s · " if rate > 0 and frames > 0 else ""
        hz = f"{rate:g} Hz · " if rate > 0 else ""
        chans = f"{_channels_text(ch)} · " if ch > 0 else ""
        return f"{dur}{hz}{chans}{fmt_bytes(len(data))}"
    peak = float(np.max(np.abs(wav.samples))) if wav.samples.size else 0.0
    level = f"peak {round(20 * math.log10(peak), 1) + 0.0:.1f} dBFS" if peak > 0 else "silent"
    parts = [
        f"{wav.duration:.2f} s" if wav.rate > 0 else f"{wav.frames} frames",
        f"{wav.rate} Hz",
        _channels_text(wav.channels),
        f"{wav.bits}-bit {wav.encoding}",
        level,
        fmt_bytes(len(data)),
    ]
    if wav.truncated:
        parts.append("cut short")
    return " · ".join(parts)


def mark(message: str, width: int, theme: Theme) -> Text:
    """A one-line "⚠ message", exactly `width` cells."""
    return fit_text(
        Text(f"{_MARK} {clean(message)}", style=theme.nan if theme.color else ""), width
    )


def clip_label(value: AudioValue, index: int, description: str = "") -> str:
    """The clip's label (TF2 audio's second column) or else the tag's description, one line."""
    label = value.labels[index] if index < len(value.labels) else ""
    text = label.strip() or description.strip()
    return clean(text.splitlines()[0]) if text else ""


def audio_card(
    value: AudioValue,
    index: int,
    width: int,
    height: int,
    colour: str,
    theme: Theme,
    *,
    description: str = "",
) -> Text:
    """Clip `index` in `width` x `height` cells: its facts, its label, the waveform and a time
    axis. A clip that cannot be decoded gives its facts and a "⚠ cannot decode: ..." line."""
    if width <= 0 or height <= 0:
        return Text("", no_wrap=True, overflow="crop")
    if not 0 <= index < len(value.clips):
        return mark(f"no clip {index + 1} (this step has {len(value.clips)})", width, theme)
    wav = decode_wav(value.clips[index])
    faint = theme.faint if theme.color else ""
    lines = [fit_text(Text(audio_info(value, index, wav), style=faint), width)]
    label = clip_label(value, index, description)
    if label and height >= 4:
        lines.append(fit_text(Text(label, style=theme.text if theme.color else ""), width))
    if isinstance(wav, str):
        lines.append(mark(f"cannot decode: {wav}", width, theme))
        return join_lines(lines[:height])
    left = height - len(lines)
    if left >= 3:
        lines.append(waveform(wav, width, left - 1, colour, theme))
        lines.append(time_axis(wav.duration, width, theme))
    elif left > 0:
        lines.append(waveform(wav, width, left, colour, theme))
    return join_lines(lines[:height])


# -- plot --audio --------------------------------------------------------------------------------


def plot_blocks(req: PlotRequest) -> list[Text]:
    """One block per run x audio tag x clip: a head line "tag · run · step N · clip i/k", the
    clip's facts and label, its waveform in `req.height` lines and the time axis, every line
    exactly `req.width` cells."""
    theme = req.theme
    blocks: list[Text] = []
    for run in req.runs:
        colour = req.colours.get(run.name, theme.text)
        for tag in run.tags(AUDIO):
            if not req.tag_ok(tag):
                continue
            value = req.value(run, AUDIO, tag, AudioValue)
            if value is None:
                continue
            meta = run.metadata(tag)
            description = meta.description if meta is not None else ""
            n = len(value.clips)
            for i in range(max(n, 1)):
                head = block_head(theme, tag, run.name, colour, value.step)
                if n == 0:
                    head.append(" · no clip")
                    blocks.append(fit_text(head, req.width))
                    continue
                head.append(f" · clip {i + 1}/{n}")
                body = audio_card(
                    value, i, req.width, req.height + 3, colour, theme, description=description
                )
                blocks.append(join_lines([fit_text(head, req.width), body]))
    return blocks
