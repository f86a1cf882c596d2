"""Benchmark of the audio renderer (not a test): decoding a long WAV and drawing its waveform.

A 10-minute 44.1 kHz stereo clip (26.5M samples, 16-bit PCM, 106 MB) and a 30-second one:
`decode_wav` (numpy over the bytes) and `waveform` (min/max of every dot column over the whole
buffer) at a card's size (48x8 cells) and a full screen's (156x36). Median and best of several
repetitions, wall and process CPU time. (TensorBoard hands the bytes to the browser's <audio>
element and draws no waveform: nothing to compare with.)

    python bench/bench_audio.py [--minutes 10] [--reps 5]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tuiboard.render.audio import Wav, decode_wav, waveform
from tuiboard.render.theme import default_theme


def timed(fn: Callable[[], object], reps: int) -> str:
    wall, cpu = [], []
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return (
        f"median {statistics.median(wall):7.1f} ms (best {min(wall):7.1f}, "
        f"CPU median {statistics.median(cpu):7.1f})"
    )


def clip(seconds: float, rate: int = 44_100) -> bytes:
    n = int(seconds * rate)
    t = np.arange(n, dtype=np.float32) / rate
    left = 0.5 * np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * 0.05 * t)
    samples = np.stack([left, -left], 1)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((samples * 32767).astype("<i2").tobytes())
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    theme = default_theme()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for seconds in (30.0, args.minutes * 60):
        data = clip(seconds)
        wav = decode_wav(data)
        assert isinstance(wav, Wav)
        size = f"{wav.frames:,} frames, {len(data) / 1e6:.0f} MB"
        print(f"\n{seconds:g} s stereo 44.1 kHz 16-bit: {size}")
        print(f"  decode_wav             {timed(lambda d=data: decode_wav(d), args.reps)}")
        for cols, rows in ((48, 8), (156, 36)):
            fn = lambda w=wav, c=cols, r=rows: waveform(w, c, r, "#ff8700", theme)  # noqa: E731
            print(f"  waveform {cols:3d}x{rows:<3d}       {timed(fn, args.reps)}")


if __name__ == "__main__":
    main()
