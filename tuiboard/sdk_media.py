"""Media and value conversion for tuiboard's logging API: Image, Histogram, and what `log` does
with values that are not plain JSON.

Owns: `Image` (an array, a PIL image, a matplotlib figure or an image file, encoded once when
made), `Histogram` (W&B's `{"_type": "histogram", "bins", "values"}`), `clean_row` (a logged dict
made safe to keep until the flusher encodes it: nested dicts copied, numpy and torch values
turned into numbers, lists or histograms, as W&B does) and `media_json` (a media object's JSON
object, written by the flusher once its file is on disk).
Must not import: textual, rich, torch, tensorboard, wandb, or tuiboard.core. numpy and Pillow
are imported only when a value needs them.

Decisions:
- Image values: uint8 arrays are taken as they are; any other dtype is scaled as older wandb
  and TensorBoard do: below 0 somewhere -> min..max mapped to 0..1; then a maximum <= 1 is
  multiplied by 255; then clipped to 0..255. (wandb 0.31 casts floats to uint8 unscaled, so an
  image in [0, 1] comes out black; nobody wants that.) HxW, HxWx1/3/4, and CxHxW when the first
  axis is 1, 3 or 4 and the last is not (a torch tensor's layout).
- An array (or tensor) of more than 32 numbers logged as a value becomes Histogram(values,
  num_bins=32), as wandb's `val_to_json` does; smaller ones become JSON lists (our reader makes
  a histogram sample of a list of numbers). A one-element array or tensor is its number.
- A list of Images logged under one key is W&B's `images/separated` object (several images at
  one step); mixed lists keep their plain elements only as JSON can hold them (str() otherwise).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

HISTOGRAM_MAX_BINS = 512
"""wandb.Histogram's limit."""
ARRAY_AS_HISTOGRAM = 32
"""Arrays with more elements than this are logged as histograms (wandb's rule)."""
MEDIA_IMAGES = "media/images"
_PLAIN = frozenset({float, int, str, bool, type(None)})
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _numpy() -> Any:
    import numpy

    return numpy


class Image:
    """An image to log: ``tuiboard.Image(array | PIL.Image | figure | path, caption=None)``.

    Encoded to PNG (a path keeps its own file format) when made, so later changes to the array
    do not change what is logged. ``width``, ``height``, ``format`` and ``caption`` are public.
    """

    __slots__ = ("_data", "_sha256", "caption", "format", "height", "width")

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        file_type: str | None = None,
        **_ignored: Any,
    ) -> None:
        """``mode`` is a PIL mode to convert to ("L", "RGB", "RGBA"); ``file_type`` "png"
        (default), "jpg"/"jpeg" or "bmp"; W&B's boxes/masks/classes/grouping are accepted and
        ignored."""
        from PIL import Image as PILImage

        self.caption: str | None = None if caption is None else str(caption)
        fmt = (file_type or "png").lower()
        if fmt not in ("png", "jpg", "jpeg", "bmp"):
            raise ValueError(f"file_type must be png, jpg, jpeg or bmp, not {file_type!r}")
        if isinstance(data_or_path, Image):
            self._data: bytes = data_or_path._data
            self.format: str = data_or_path.format
            self.width: int = data_or_path.width
            self.height: int = data_or_path.height
            self._sha256: str = data_or_path._sha256
            return
        if isinstance(data_or_path, (str, os.PathLike)):
            with open(data_or_path, "rb") as fh:
                raw = fh.read()
            with PILImage.open(io.BytesIO(raw)) as probe:
                self.width, self.height = probe.size
                self.format = (probe.format or "png").lower().replace("jpeg", "jpg")
            self._data = raw
            self._sha256 = hashlib.sha256(raw).hexdigest()
            return
        if isinstance(data_or_path, PILImage.Image):
            pil = data_or_path
        elif hasattr(data_or_path, "savefig"):  # a matplotlib figure
            buf = io.BytesIO()
            data_or_path.savefig(buf, format="png")
            pil = PILImage.open(io.BytesIO(buf.getvalue()))
        else:
            pil = PILImage.fromarray(image_array(data_or_path))
        if mode is not None:
            pil = pil.convert(mode)
        if fmt in ("jpg", "jpeg") and pil.mode not in ("L", "RGB"):
            pil = pil.convert("RGB")
        out = io.BytesIO()
        pil.save(out, format="JPEG" if fmt in ("jpg", "jpeg") else fmt.upper())
        self._data = out.getvalue()
        self.format = "jpg" if fmt == "jpeg" else fmt
        self.width, self.height = pil.size
        self._sha256 = hashlib.sha256(self._data).hexdigest()

    @property
    def data(self) -> bytes:
        """The encoded image bytes, as they are written to the run's media directory."""
        return self._data

    def file_name(self, key: str, step: int) -> str:
        """W&B's media name: ``media/images/<key>_<step>_<sha256[:20]>.<format>``, a "/" in
        the key making subdirectories as in wandb; each part made safe for a file name (no
        "..", no leading dot)."""
        parts = [_SAFE_NAME.sub("_", p).strip("._") for p in key.split("/")]
        safe = "/".join(p for p in parts if p) or "image"
        return f"{MEDIA_IMAGES}/{safe}_{step}_{self._sha256[:20]}.{self.format}"

    def to_json(self, path: str) -> dict[str, Any]:
        """W&B's ``image-file`` object for this image stored at ``path`` (run-relative)."""
        out: dict[str, Any] = {
            "_type": "image-file",
            "path": path,
            "sha256": self._sha256,
            "size": len(self._data),
            "format": self.format,
            "width": self.width,
            "height": self.height,
        }
        if self.caption is not None:
            out["caption"] = self.caption
        return out

    def __repr__(self) -> str:
        return f"<tuiboard.Image {self.width}x{self.height} {self.format}>"


def image_array(data: Any) -> Any:
    """A uint8 HxW or HxWxC (C in 1, 3, 4) array from an array-like (see the module docstring)."""
    np = _numpy()
    a = to_numpy(data)
    if a.ndim == 3 and a.shape[-1] not in (1, 3, 4) and a.shape[0] in (1, 3, 4):
        a = np.transpose(a, (1, 2, 0))
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (3, 4)):
        raise ValueError(f"an image is HxW, HxWxC or CxHxW with C in 1, 3, 4; got {a.shape}")
    return to_uint8(a)


def to_uint8(a: Any) -> Any:
    """uint8 pixels: uint8 as is; else scaled (min < 0: min..max -> 0..1; max <= 1: x255)."""
    np = _numpy()
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    f = np.nan_to_num(np.asarray(a, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if f.size and f.min() < 0:
        span = float(f.max() - f.min())
        f = (f - f.min()) / span if span > 0 else np.zeros_like(f)
    if f.size and f.max() <= 1.0:
        f = f * 255.0
    return np.clip(np.rint(f), 0, 255).astype(np.uint8)


class Histogram:
    """A histogram to log: ``tuiboard.Histogram(values, num_bins=64)`` or
    ``tuiboard.Histogram(np_histogram=(counts, edges))``, stored as W&B stores it."""

    __slots__ = ("bins", "histogram")

    def __init__(
        self,
        sequence: Any = None,
        np_histogram: tuple[Any, Any] | None = None,
        num_bins: int = 64,
    ) -> None:
        if np_histogram is not None:
            if len(np_histogram) != 2:
                raise ValueError("np_histogram is a (counts, bin_edges) pair")
            counts, edges = np_histogram
            self.histogram: list[float] = [_number(x) for x in _as_list(counts)]
            self.bins: list[float] = [float(x) for x in _as_list(edges)]
        elif sequence is not None:
            if num_bins > HISTOGRAM_MAX_BINS:
                raise ValueError(f"num_bins is at most {HISTOGRAM_MAX_BINS}")
            np = _numpy()
            values = np.asarray(to_numpy(sequence), np.float64).reshape(-1)
            values = values[np.isfinite(values)]
            counts, edges = np.histogram(values, bins=num_bins)
            self.histogram = counts.tolist()
            self.bins = edges.tolist()
        else:
            raise ValueError("Histogram needs a sequence or np_histogram")
        if len(self.histogram) + 1 != len(self.bins):
            raise ValueError("len(bins) must be len(histogram) + 1")

    def to_json(self) -> dict[str, Any]:
        return {"_type": "histogram", "values": self.histogram, "bins": self.bins}

    def __repr__(self) -> str:
        return f"<tuiboard.Histogram {len(self.histogram)} bins>"


class ImageList:
    """Several Images logged under one key at one step (W&B's ``images/separated``)."""

    __slots__ = ("images",)

    def __init__(self, images: Sequence[Image]) -> None:
        self.images: tuple[Image, ...] = tuple(images)


Media = Image | Histogram | ImageList


def _as_list(x: Any) -> list[Any]:
    return list(x.tolist()) if hasattr(x, "tolist") else list(x)


def _number(x: Any) -> float:
    return int(x) if float(x).is_integer() else float(x)


def to_numpy(data: Any) -> Any:
    """A numpy array from an array, a torch tensor (detached, on the CPU; torch not imported),
    anything with __array__ or .numpy(), or nested sequences."""
    np = _numpy()
    if isinstance(data, np.ndarray):
        return data
    if hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor
        data = data.detach().cpu()
        if hasattr(data, "numpy"):
            return np.asarray(data.numpy())
    if hasattr(data, "__array__"):
        return np.asarray(data)
    if hasattr(data, "numpy"):
        return np.asarray(data.numpy())
    return np.asarray(data)


def _is_arraylike(v: Any) -> bool:
    if hasattr(v, "__array__") or (hasattr(v, "detach") and hasattr(v, "numpy")):
        return True
    np = sys.modules.get("numpy")
    return np is not None and isinstance(v, np.generic)


def clean_value(v: Any) -> Any:
    """A logged value as it is kept until the flusher encodes it (see the module docstring)."""
    kind = type(v)
    if kind in _PLAIN:
        return v
    if isinstance(v, (Image, Histogram, ImageList)):
        return v
    if isinstance(v, Mapping):
        return {str(k): clean_value(x) for k, x in v.items()}
    if _is_arraylike(v):
        a = to_numpy(v)
        if a.size == 1 and a.dtype.kind in "biuf":
            return a.reshape(-1)[0].item()
        if a.dtype.kind in "biuf" and a.size > ARRAY_AS_HISTOGRAM:
            return Histogram(a, num_bins=32)
        return clean_value(a.tolist())
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, Image) for x in v):
            return ImageList(v)
        return [clean_value(x) for x in v]
    if isinstance(v, float):  # float subclasses
        return float(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, str):
        return str(v)
    return str(v)


def clean_row(data: Mapping[str, Any]) -> tuple[dict[str, Any], bool, bool]:
    """(a copy of ``data`` safe to keep, whether it holds media, whether it holds nested
    dicts). Keys must be strings, as wandb.log requires (TypeError otherwise). Plain values cost
    one type check each."""
    row = dict(data)
    media = nested = False
    for key, value in row.items():
        if type(key) is not str:
            raise TypeError("Key values passed to `log` must be strings.")
        if type(value) not in _PLAIN:
            cleaned = clean_value(value)
            row[key] = cleaned
            if type(cleaned) is dict:
                nested = True
            if not media and _holds_media(cleaned):
                media = True
    return row, media, nested


def _holds_media(v: Any) -> bool:
    if isinstance(v, (Image, Histogram, ImageList)):
        return True
    if type(v) is dict:
        return any(_holds_media(x) for x in v.values())
    return False


def merge_into(pending: dict[str, Any], row: Mapping[str, Any]) -> None:
    """W&B's partial-history merge: nested dicts merge key by key (wandb-core flattens them),
    every other value replaces the one before."""
    for key, value in row.items():
        old = pending.get(key)
        if type(value) is dict and type(old) is dict:
            merged = dict(old)
            merge_into(merged, value)
            pending[key] = merged
        else:
            pending[key] = value


def media_json(value: Any, key: str, step: int, write: Any) -> Any:
    """``value`` with its media objects replaced by their JSON objects; ``write(path, data)``
    stores a media file (run-relative path) and is called before the object refers to it."""
    if isinstance(value, Image):
        path = value.file_name(key, step)
        write(path, value.data)
        return value.to_json(path)
    if isinstance(value, Histogram):
        return value.to_json()
    if isinstance(value, ImageList):
        jsons = [
            media_json(img, f"{key}_{i}" if len(value.images) > 1 else key, step, write)
            for i, img in enumerate(value.images)
        ]
        out: dict[str, Any] = {
            "_type": "images/separated",
            "width": value.images[0].width,
            "height": value.images[0].height,
            "format": value.images[0].format,
            "count": len(jsons),
            "filenames": [j["path"] for j in jsons],
        }
        captions = [img.caption or "" for img in value.images]
        if any(captions):
            out["captions"] = captions
        return out
    if type(value) is dict:
        return {k: media_json(v, f"{key}/{k}", step, write) for k, v in value.items()}
    return value


def summary_json(value: Any) -> Any:
    """A summary value as JSON: media objects without their file paths (the summary names the
    last value of a key, its file is named in the history line)."""
    if isinstance(value, Image):
        out = value.to_json("")
        del out["path"]
        return out
    if isinstance(value, Histogram):
        return value.to_json()
    if isinstance(value, ImageList):
        return {"_type": "images/separated", "count": len(value.images)}
    if type(value) is dict:
        return {k: summary_json(v) for k, v in value.items()}
    return value


def json_default(o: Any) -> Any:
    """json.dumps' fallback for values clean_row let through (numpy scalars in lists)."""
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return o
    return str(o)
