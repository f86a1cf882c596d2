"""An embedding's projection and neighbourhoods: PCA, nearest neighbours, label search.

Owns: `Pca` / `pca`, `Neighbours`, `search`, `finite_rows` and `spherize_default`. Everything is
numpy over blocks of rows turned into float64 (BLOCK_ROWS at a time): nothing holds a second copy
of the tensor.
Must not import: textual, rich, tuiboard.render, tuiboard.ui.

Where tuiboard differs from TensorBoard's projector, deliberately:
- PCA is exact: every point and every dimension (TensorBoard samples 50,000 points and randomly
  projects past 200 dimensions), and always on centred data; "spherize" (TensorBoard's Spherize
  data: centre, then scale each row to unit length) is an option, TensorBoard's default being on
  from 50 dimensions (`spherize_default`). TensorBoard without spherize does not centre.
- Nearest neighbours are in the original space (never the spherized one), cosine distance
  1 - cos or euclidean, ties by row order.
- Rows holding a NaN or an infinity are left out of both (TensorBoard draws garbage).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

BLOCK_ROWS = 1024
"""Rows of the tensor turned into float64 at a time by PCA and the neighbour search."""
SPHERIZE_DIMS = 50
"""TensorBoard turns "Spherize data" on by default from this many dimensions."""
METRICS = ("cosine", "euclidean")


@dataclass(frozen=True, slots=True, eq=False)
class Pca:
    coords: np.ndarray
    """(rows, k) float32: each point on the first k principal components."""
    variance: np.ndarray
    """(k,) float64: the share of the total variance each component explains."""
    components: np.ndarray
    """(dims, k) float64: unit vectors; each one's largest entry (by magnitude) is positive."""
    mean: np.ndarray
    """(dims,) float64: what was subtracted."""
    spherized: bool
    left_out: int = 0
    """Rows left out for holding a NaN or an infinity (their coords are NaN)."""


def spherize_default(dims: int) -> bool:
    """TensorBoard's default for "Spherize data": on from SPHERIZE_DIMS dimensions."""
    return dims >= SPHERIZE_DIMS


def _blocks(
    tensor: np.ndarray,
    mean: np.ndarray,
    scale: np.ndarray | None,
    ok: np.ndarray | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """(start row, float64 block of centred (and scaled) rows); rows not `ok` are zeros."""
    for start in range(0, tensor.shape[0], BLOCK_ROWS):
        block = tensor[start : start + BLOCK_ROWS].astype(np.float64)
        block -= mean
        if scale is not None:
            block *= scale[start : start + BLOCK_ROWS, None]
        if ok is not None:
            block[~ok[start : start + BLOCK_ROWS]] = 0.0
        yield start, block


def finite_rows(tensor: np.ndarray) -> np.ndarray:
    """bool per row: every value finite (a NaN or inf row cannot be projected)."""
    ok = np.empty(tensor.shape[0], dtype=bool)
    for start in range(0, tensor.shape[0], BLOCK_ROWS):
        ok[start : start + BLOCK_ROWS] = np.isfinite(tensor[start : start + BLOCK_ROWS]).all(1)
    return ok


def pca(tensor: np.ndarray, k: int = 3, *, spherize: bool = False) -> Pca:
    """The first k principal components of the rows of `tensor` (centred; spherized: each
    centred row scaled to unit length, as TensorBoard's "Spherize data"), the share of variance
    each explains, and every row's coordinates on them.

    The covariance is accumulated in float64 blocks of rows (the tensor is never copied whole);
    its top eigenvectors come from subspace iteration checked by its residual, else from
    numpy's eigh. Past a covariance larger than the tensor itself (far more dimensions than
    rows), the iteration runs on the rows directly. Rows holding a NaN or an infinity are left
    out (their coordinates are NaN; `left_out` counts them)."""
    rows, d = tensor.shape
    k = max(0, min(k, d))
    finite = finite_rows(tensor)
    n = int(np.count_nonzero(finite))
    ok = None if n == rows else finite
    if ok is None:
        mean = tensor.mean(axis=0, dtype=np.float64)
    else:
        total_rows = np.zeros(d)
        for start in range(0, rows, BLOCK_ROWS):
            part = tensor[start : start + BLOCK_ROWS]
            total_rows += part[finite[start : start + BLOCK_ROWS]].sum(axis=0, dtype=np.float64)
        mean = total_rows / max(n, 1)
    n = max(n, 1)
    scale: np.ndarray | None = None
    if spherize:
        sq = np.empty(rows)
        for start, block in _blocks(tensor, mean, None, ok):
            sq[start : start + block.shape[0]] = np.einsum("ij,ij->i", block, block)
        norms = np.sqrt(sq)
        scale = np.divide(1.0, norms, out=np.zeros(rows), where=norms > 0)

    if d * d * 8 <= max(tensor.nbytes, 64 << 20):
        cov = np.zeros((d, d))
        for _, block in _blocks(tensor, mean, scale, ok):
            cov += block.T @ block
        cov /= n

        def apply(v: np.ndarray) -> np.ndarray:
            return np.asarray(cov @ v)

        total = float(np.trace(cov))
        values, vectors = _top_eigen(apply, d, k, exact=lambda: np.linalg.eigh(cov))
    else:

        def apply(v: np.ndarray) -> np.ndarray:
            out = np.zeros((d, v.shape[1]))
            for _, block in _blocks(tensor, mean, scale, ok):
                out += block.T @ (block @ v)
            return out / n

        total = 0.0
        for _, block in _blocks(tensor, mean, scale, ok):
            total += float(np.einsum("ij,ij->", block, block))
        total /= n
        values, vectors = _top_eigen(apply, d, k, exact=None)

    # A deterministic sign: each component's largest entry is positive.
    if k:
        big = vectors[np.argmax(np.abs(vectors), axis=0), np.arange(k)]
        vectors = vectors * np.where(big < 0, -1.0, 1.0)
    coords = np.empty((rows, k), dtype=np.float32)
    for start, block in _blocks(tensor, mean, scale, ok):
        coords[start : start + block.shape[0]] = block @ vectors
    if ok is not None:
        coords[~ok] = np.nan
    variance = values / total if total > 0 else np.zeros(k)
    return Pca(coords, variance, vectors, mean, spherize, rows - int(np.count_nonzero(finite)))


def _top_eigen(
    apply: Callable[[np.ndarray], np.ndarray],
    d: int,
    k: int,
    exact: Callable[[], tuple[np.ndarray, np.ndarray]] | None,
    iterations: int = 80,
) -> tuple[np.ndarray, np.ndarray]:
    """The k largest eigenvalues (descending) and unit eigenvectors of a symmetric PSD matrix
    given as `apply(V) = C @ V`: subspace iteration with k + 8 vectors and Rayleigh-Ritz,
    stopping when every residual |Cv - lv| is below 1e-9 of the largest eigenvalue; `exact()`
    (numpy's eigh) when it has not converged, or when d is small enough for eigh to be cheap."""
    if k == 0:
        return np.zeros(0), np.zeros((d, 0))
    if exact is not None and d <= 64:
        w, v = exact()
        return w[::-1][:k].copy(), v[:, ::-1][:, :k].copy()
    p = min(d, k + 8)
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((d, p)))
    values = np.zeros(k)
    vectors = q[:, :k]
    for it in range(iterations):
        z = apply(q)
        if it % 4 == 3 or it == iterations - 1:
            t = q.T @ z
            w, u = np.linalg.eigh((t + t.T) / 2)
            order = np.argsort(w)[::-1][:k]
            values = w[order]
            vectors = q @ u[:, order]
            residual = np.linalg.norm(apply(vectors) - vectors * values, axis=0)
            scale = max(float(values[0]), 1e-300)
            if np.all(residual <= 1e-9 * scale):
                return values, vectors
        q, _ = np.linalg.qr(z)
    if exact is not None:
        w, v = exact()
        return w[::-1][:k].copy(), v[:, ::-1][:, :k].copy()
    return values, vectors


# -- neighbours and search ------------------------------------------------------------------------


@dataclass(slots=True)
class Neighbours:
    """The k nearest rows of a row of `tensor`, in the tensor's own space."""

    tensor: np.ndarray
    _norms: np.ndarray | None = field(default=None, repr=False)
    _finite: np.ndarray | None = field(default=None, repr=False)

    def norms(self) -> np.ndarray:
        if self._norms is None:
            zero = np.zeros(self.tensor.shape[1])
            sq = np.empty(self.tensor.shape[0])
            for start, block in _blocks(self.tensor, zero, None):
                sq[start : start + block.shape[0]] = np.einsum("ij,ij->i", block, block)
            self._norms = np.sqrt(sq)
        return self._norms

    def distances(self, index: int, metric: str = "cosine") -> np.ndarray:
        """float64 distance of every row to row `index`: cosine 1 - cos (1 where either vector
        is all zeros), or euclidean."""
        tensor = self.tensor
        x = tensor[index].astype(np.float64)
        out = np.empty(tensor.shape[0])
        zero = np.zeros(tensor.shape[1])
        if metric == "cosine":
            norms = self.norms()
            xn = float(norms[index])
            for start, block in _blocks(tensor, zero, None):
                out[start : start + block.shape[0]] = block @ x
            denom = norms * xn
            cos = np.divide(out, denom, out=np.zeros_like(out), where=denom > 0)
            return 1.0 - np.clip(cos, -1.0, 1.0)
        for start, block in _blocks(tensor, x, None):
            out[start : start + block.shape[0]] = np.sqrt(np.einsum("ij,ij->i", block, block))
        return out

    def query(self, index: int, k: int, metric: str = "cosine") -> tuple[np.ndarray, np.ndarray]:
        """(rows, distances) of the k nearest rows other than `index`, nearest first (ties by
        row order); rows holding NaN or inf come last, at an infinite distance."""
        dist = self.distances(index, metric)
        if self._finite is None:
            self._finite = finite_rows(self.tensor)
        dist[~self._finite | np.isnan(dist)] = np.inf  # a row holding NaN or inf: nobody's
        dist[index] = np.inf
        k = max(0, min(k, dist.shape[0] - 1))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        part = np.argpartition(dist, k - 1)[:k]
        # Rows tied with the k-th distance but left out of the partition would make the order
        # depend on numpy: take every row within it, then sort by (distance, row).
        cut = dist[part].max()
        part = np.flatnonzero(dist <= cut)
        order = np.lexsort((part, dist[part]))[:k]
        rows = part[order]
        return rows.astype(np.int64), dist[rows]


def search(values: tuple[str | None, ...] | list[str], query: str) -> np.ndarray:
    """Rows whose value matches `query`: a case-insensitive regex searched in it (a query that
    is not a valid regex is searched for literally)."""
    try:
        pattern = re.compile(query, re.IGNORECASE)
    except re.error:
        pattern = re.compile(re.escape(query), re.IGNORECASE)
    found = [i for i, v in enumerate(values) if v is not None and pattern.search(v)]
    return np.asarray(found, dtype=np.int64)
