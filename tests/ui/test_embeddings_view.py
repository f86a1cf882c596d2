"""The Embeddings tab through Pilot, on what tensorboardX's add_embedding wrote
(tests/ui/conftest.py write_embedding_runs): the PCA drawn where numpy's SVD puts the points,
the 3D view turned by the arrow keys, a point picked by the cursor or by a label search, its
metadata, sprite and nearest neighbours (against brute force on TensorBoard's tensor), the
colour / label / metric / spherize / tensor keys, and a tensor refused for its size."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from rich.text import Text
from textual.widgets import Static

from tests.reference import Projector
from tests.ui.conftest import make_app, started
from tests.ui.test_live import wait_for
from tuiboard.core import embeddings
from tuiboard.core.logdir import Logdir
from tuiboard.render.embeddings import NEIGHBOUR, SELECTED_MARK, fit_dots
from tuiboard.render.raster import BRAILLE_BASE
from tuiboard.ui.widgets.embeddings_view import START, TURN, EmbeddingPlot, EmbeddingsView

pytestmark = pytest.mark.anyio
SIZE = (140, 40)


async def opened(pilot: object, *keys: str) -> EmbeddingsView:
    app = await started(pilot)  # type: ignore[arg-type]
    app.action_show_tab("embeddings")
    view = app.view("embeddings")
    assert isinstance(view, EmbeddingsView)
    await wait_for(pilot, lambda: view.loads >= 1)  # type: ignore[arg-type]
    for key in keys:
        before = view.loads
        await pilot.press(key)  # type: ignore[attr-defined]
        if key in "tTz":
            await wait_for(pilot, lambda b=before: view.loads > b)  # type: ignore[arg-type]
    await pilot.pause()  # type: ignore[attr-defined]
    return view


def plot(view: EmbeddingsView) -> Text:
    text = view.query_one(EmbeddingPlot).render()
    assert isinstance(text, Text)
    return text


def plain(widget_text: object, width: int = 200) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(widget_text)
    return console.export_text()


def static(view: EmbeddingsView, name: str) -> str:
    return plain(view.query_one(f"#{name}", Static).content)


def side(view: EmbeddingsView) -> str:
    return "\n".join(static(view, part) for part in ("emb-pca", "emb-point", "emb-neighbours"))


def svd_coords(x: np.ndarray, spherize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(coordinates on the first 3 components with tuiboard's sign rule, variance fractions)."""
    y = x.astype(np.float64) - x.astype(np.float64).mean(axis=0)
    if spherize:
        norms = np.linalg.norm(y, axis=1, keepdims=True)
        y = np.divide(y, norms, out=np.zeros_like(y), where=norms > 0)
    _, s, vt = np.linalg.svd(y, full_matrices=False)
    v = vt.T[:, :3]
    v = v * np.sign(v[np.argmax(np.abs(v), axis=0), np.arange(v.shape[1])])
    return y @ v, s**2 / (s**2).sum()


def reference(root: Path, run: str, dims: int) -> tuple[np.ndarray, list[list[str]]]:
    """TensorBoard's projector plugin: the tensor and the metadata rows of `run`."""
    ref = Projector(root)
    emb = ref.embeddings(run)[0]
    tensor = ref.tensor(run, emb.tensor_name, dims)
    lines = ref.metadata(run, emb.tensor_name).splitlines()
    rows = [line.split("\t") for line in (lines[1:] if "\t" in lines[0] else lines)]
    return tensor, rows


def braille_dots(text: Text, skip: tuple[int, int] | None) -> set[tuple[int, int]]:
    """Every lit dot (column, row) of a braille drawing (cell `skip` left out: the cursor)."""
    bits = ((0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3))
    out = set()
    for r, line in enumerate(text.plain.split("\n")):
        for c, ch in enumerate(line):
            code = ord(ch) - BRAILLE_BASE
            if (c, r) == skip or not 0 < code < 256:
                continue
            out |= {(2 * c + dx, 4 * r + dy) for k, (dx, dy) in enumerate(bits) if code >> k & 1}
    return out


async def test_the_first_embedding_is_drawn_where_numpy_puts_it(
    embedding_logdir: Logdir, embedding_root: Path
) -> None:
    async with make_app(embedding_logdir).run_test(size=SIZE) as pilot:
        view = await opened(pilot)
        assert view.app.shown_tabs()[-1] == "embeddings"  # type: ignore[attr-defined]
        s = view.shown_data
        assert s is not None and s.info.tensor_name == "small:00003" and s.result is not None
        tensor, rows = reference(embedding_root, "plain", 4)
        assert s.loaded is not None and np.array_equal(s.loaded.tensor, tensor)
        coords, fractions = svd_coords(tensor)
        assert not s.result.spherized  # 4 dimensions: TensorBoard's default is off
        assert np.allclose(s.result.variance, fractions[:3], rtol=1e-6)
        assert np.allclose(s.result.coords, coords, atol=1e-4)
        text = plot(view)
        w, h = view._plot_size
        dots = np.rint(fit_dots(coords[:, :2], w, h, _bounds(coords[:, :2]))).astype(int)
        assert braille_dots(text, view.cursor) == {
            (c, r) for c, r in dots if (c // 2, r // 4) != view.cursor
        }
        assert "small:00003" in static(view, "emb-title")
        assert "30 × 4" in static(view, "emb-title")
        assert f"PC1 {100 * fractions[0]:.1f}%" in side(view).replace("\n", " ")
        assert [r[0] for r in rows] == [f"p{i}" for i in range(30)]


def _bounds(xy: np.ndarray) -> tuple[float, float, float, float]:
    return (
        float(xy[:, 0].min()),
        float(xy[:, 0].max()),
        float(xy[:, 1].min()),
        float(xy[:, 1].max()),
    )


async def test_arrows_turn_the_3d_view(embedding_logdir: Logdir) -> None:
    async with make_app(embedding_logdir).run_test(size=SIZE) as pilot:
        view = await opened(pilot, "t", "d")
        assert view.three_d and (view.yaw, view.pitch) == START
        first = plot(view).plain
        await pilot.press("right")
        assert view.yaw == START[0] + TURN
        turned = plot(view).plain
        assert turned != first
        await pilot.press(*["right"] * (round(360 / TURN) - 1))
        assert view.yaw == START[0] % 360 and plot(view).plain == first  # a full turn
        await pilot.press(*["up"] * 10)
        assert view.pitch == 90.0  # straight from above, no further
        from_above = braille_dots(plot(view), view.cursor)
        # From above, the screen shows PC1 across and PC3 (depth) up: PC2 is gone.
        s = view.shown_data
        assert s is not None and s.result is not None
        c = s.result.coords.astype(np.float64)
        yaw = np.radians(view.yaw)
        x = c[:, 0] * np.cos(yaw) + c[:, 2] * np.sin(yaw)
        z = -c[:, 0] * np.sin(yaw) + c[:, 2] * np.cos(yaw)
        r = float(np.sqrt((c**2).sum(axis=1)).max())
        w, h = view._plot_size
        want = np.rint(fit_dots(np.column_stack([x, -z]), w, h, (-r, r, -r, r))).astype(int)
        assert from_above == {(a, b) for a, b in want if (a // 2, b // 4) != view.cursor}
        await pilot.press("0")
        assert (view.yaw, view.pitch) == START and plot(view).plain == first
        await pilot.press("d")
        assert not view.three_d


async def test_search_selects_a_point_and_shows_its_neighbours(
    embedding_logdir: Logdir, embedding_root: Path
) -> None:
    async with make_app(embedding_logdir).run_test(size=SIZE) as pilot:
        view = await opened(pilot, "t")
        tensor, rows = reference(embedding_root, "words", 16)
        words = [r[0] for r in rows]
        await pilot.press("slash", *"DOG1", "enter")
        want = [i for i, w in enumerate(words) if re.search("dog1", w, re.IGNORECASE)]
        assert list(view.matches) == want and view.selected == want[0] == 1
        await wait_for(pilot, lambda: view.neighbours is not None)
        x = tensor.astype(np.float64)
        cos = x @ x[1] / (np.linalg.norm(x, axis=1) * np.linalg.norm(x[1]))
        dist = 1 - cos
        dist[1] = np.inf
        nearest = list(np.argsort(dist, kind="stable")[:10])
        assert view.neighbours is not None
        assert list(view.neighbours[0]) == nearest
        assert np.allclose(view.neighbours[1], dist[nearest])
        await pilot.pause()
        text = side(view)
        assert "point #1" in text and "dog1" in text and "class" in text and rows[1][2] in text
        assert "10 nearest · cosine" in text
        assert all(words[i] in text for i in nearest)
        # The neighbours in the scatter: their cells in the neighbour colour, the point as ●.
        drawn = plot(view)
        console = Console(width=300)
        w, _ = view._plot_size
        assert view._dots is not None
        cells = np.rint(view._dots).astype(int)
        sel = (cells[1, 0] // 2, cells[1, 1] // 4)
        assert drawn.plain.split("\n")[sel[1]][sel[0]] == SELECTED_MARK
        for i in nearest:
            c, r = cells[i, 0] // 2, cells[i, 1] // 4
            if (c, r) in (sel, view.cursor):
                continue
            style = drawn.get_style_at_offset(console, r * (w + 1) + c)
            assert style.color is not None and style.color.triplet is not None
            assert style.color.triplet.hex == NEIGHBOUR, i
        # Its sprite thumbnail: the cell of the sheet tensorboardX wrote for point 1.
        sprite = view.query_one("#emb-sprite")
        assert sprite.display
        s = view.shown_data
        assert s is not None and s.sheet is not None
        cell = embeddings.sprite_cell(s.sheet, s.info.sprite_dim, 1)
        image = np.asarray(sprite.image)  # type: ignore[attr-defined]
        k = image.shape[0] // 8
        assert np.array_equal(image[::k, ::k], cell)
        await pilot.press("n")
        assert view.selected == want[1] and view.match_at == 1
        await pilot.press("N", "N")
        assert view.selected == want[-1]
        await pilot.press("escape")
        assert view.selected is None and len(view.matches) == 0 and view.neighbours is None


async def test_the_cursor_picks_the_nearest_point(
    embedding_logdir: Logdir, embedding_root: Path
) -> None:
    async with make_app(embedding_logdir).run_test(size=SIZE) as pilot:
        view = await opened(pilot, "t")
        tensor, _ = reference(embedding_root, "words", 16)
        w, h = view._plot_size
        assert view._dots is not None
        target = 7
        col, row = (int(v) for v in np.rint(view._dots[target]) // (2, 4))
        dx, dy = col - w // 2, row - h // 2
        keys = ["right" if dx > 0 else "left"] * abs(dx) + ["down" if dy > 0 else "up"] * abs(dy)
        await pilot.press(*keys)
        assert view.cursor == (col, row)
        await pilot.press("enter")
        centre = np.array([col * 2 + 0.5, row * 4 + 1.5])
        d = ((view._dots - centre) ** 2).sum(axis=1)
        assert view.selected == int(np.argmin(d))
        assert d[view.selected] <= d[target]
        point = view.selected
        await wait_for(pilot, lambda: view.neighbours is not None)
        await pilot.press("m")
        assert view.metric == "euclidean"
        await wait_for(pilot, lambda: view.neighbours is not None)
        x = tensor.astype(np.float64)
        dist = np.linalg.norm(x - x[point], axis=1)
        dist[point] = np.inf
        assert view.neighbours is not None
        assert list(view.neighbours[0]) == list(np.argsort(dist, kind="stable")[:10])
        await pilot.press("plus")
        await wait_for(pilot, lambda: view.neighbours is not None)
        assert view.k == 20 and len(view.neighbours[0]) == 20
        await pilot.press("minus", "minus", "minus")
        assert view.k == 5
        await pilot.press("shift+left")
        assert view.cursor == (col - 4, row)


async def test_colour_label_spherize_and_tensor_keys(
    embedding_logdir: Logdir, embedding_root: Path
) -> None:
    async with make_app(embedding_logdir).run_test(size=SIZE) as pilot:
        view = await opened(pilot, "t")
        assert view.colour_index() == 1  # "word" has 60 values: TensorBoard cannot colour by it
        assert "colour class  ■ cat 20  ■ dog 20  ■ bird 20" in static(view, "emb-legend")
        await pilot.press("c")
        assert view.colour_index() == 2 and "colour score 0.0" in static(view, "emb-legend")
        await pilot.press("c")
        assert view.colour_index() is None and "colour none" in static(view, "emb-legend")
        await pilot.press("C")
        assert view.colour_index() == 2
        assert view.label_index() == 0
        await pilot.press("l")
        assert view.label_index() == 1
        await pilot.press("slash", *"bird", "enter")
        assert len(view.matches) == 20  # searched in "class" now
        tensor, _ = reference(embedding_root, "words", 16)
        await pilot.press("z")
        await wait_for(
            pilot, lambda: view.shown_data is not None and view.shown_data.result is not None
        )
        s = view.shown_data
        assert s is not None and s.result is not None and s.result.spherized
        coords, fractions = svd_coords(tensor, spherize=True)
        assert np.allclose(s.result.variance, fractions[:3], rtol=1e-6)
        assert np.allclose(s.result.coords, coords, atol=1e-5)
        assert "PCA spherized" in side(view)
        await pilot.press("T")
        await wait_for(
            pilot, lambda: view.shown_data is not None and view.shown_data.loaded is not None
        )
        assert view.shown_data is not None and view.shown_data.run == "plain"
        # Another tensor: TensorBoard's colour and label columns again (its one column).
        assert view.colour_index() == 0 and view.label_index() == 0
        await pilot.press("slash", *"p1", "enter")
        assert list(view.matches) == [1, *range(10, 20)]


async def test_a_tensor_too_large_is_refused_with_its_size(
    embedding_logdir: Logdir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embeddings, "available_memory", lambda: 800)
    async with make_app(embedding_logdir).run_test(size=SIZE) as pilot:
        view = await opened(pilot)
        s = view.shown_data
        assert s is not None and s.loaded is not None and s.loaded.tensor is None
        shown = plain(plot(view))
        assert "30 x 4 float32 = 480 bytes: more than the 400 bytes" in shown
        assert "not read" in shown


async def test_the_tab_appears_live_and_follows_the_run_panel(tbx_root: Path) -> None:
    """--tab embeddings waits for a projector config; hiding the run empties the tab."""
    import tuiboard
    from tests.ui.conftest import FIXED_TIME, NOW_OFFSET, write_embedding_runs
    from tuiboard.ui.app import TuiboardApp

    logdir = tuiboard.open(str(tbx_root), load=False)
    app = TuiboardApp(logdir, poll=0.1, clock=lambda: FIXED_TIME + NOW_OFFSET, tab="embeddings")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.logdir.stats.runs == 3)
        assert "embeddings" not in app.shown_tabs()
        write_embedding_runs(tbx_root / "projector")
        await wait_for(pilot, lambda: app.active_tab == "embeddings", timeout=20)
        view = app.view("embeddings")
        assert isinstance(view, EmbeddingsView)
        await wait_for(pilot, lambda: view.loads >= 1 and len(view.entries) == 2)
        assert [(run, info.tensor_name) for run, info in view.entries] == [
            ("projector/plain", "small:00003"),
            ("projector/words", "emb:00000"),
        ]
        # The watcher may have found either run first: hide the one shown, the other one opens.
        assert view.shown_data is not None
        first = view.shown_data.run
        other = ({"projector/plain", "projector/words"} - {first}).pop()
        app.board.selection.hidden.add(first)
        app.view_changed(runs_changed=True)
        await wait_for(pilot, lambda: view.loads >= 2)
        assert view.shown_data is not None and view.shown_data.run == other
        app.board.selection.hidden.add(other)
        app.view_changed(runs_changed=True)
        await pilot.pause()
        assert view.shown_data is None and "No embeddings" in plain(plot(view))
