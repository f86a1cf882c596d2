"""The Mesh tab: a card per (run, mesh, sample) at one step — the up to three tags an `add_mesh`
writes (vertices, faces, colours) shown as one mesh — drawn as a braille wireframe (or a point
cloud) in perspective, turned with the arrow keys and zoomed with + and -.

Owns: `MeshView` and `MeshCard` (its camera: yaw, tilt, zoom in the card's options).
Keys: on a focused card ←/→ turn the mesh, ↑/↓ tilt it, `+`/`-` zoom, `0` resets the view, `h`
shows the hidden edges too (x-ray), the step slider and Enter as on every card. The arrows
being the camera's, the card grid is walked with tab / shift+tab (Textual's focus chain, in
grid order), and the mouse.
Drawing happens on worker threads (render/mesh.py projects every vertex with numpy: a
100k-vertex, 200k-face mesh takes ~30 ms to redraw turned and ~60 ms the first time, at
156x40 cells on a busy 2-core machine, bench/bench_mesh.py); while a turned view is drawn the
card keeps its last picture, and a view the card no longer wants is skipped.
Must not import: tuiboard.core readers (core.mesh groups what the store holds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from tuiboard.core.mesh import MeshFrame, mesh_frames, mesh_names, mesh_version
from tuiboard.core.types import MESH
from tuiboard.render.mesh import Camera, mesh_block
from tuiboard.ui.widgets.cards import SLIDER_BINDINGS, Card, CardKey, CardsView

if TYPE_CHECKING:
    from rich.console import RenderableType

    from tuiboard.core.types import ValueRecord

TURN = 15.0
"""Degrees per arrow key press."""
ZOOM = 1.25
"""Scale per + or - press."""


class MeshCard(Card):
    """One (run, mesh name, sample): `key.tag` is the mesh's name, not a store tag."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *SLIDER_BINDINGS,
        Binding("left", f"turn({-TURN}, 0)", "Turn the mesh left"),
        Binding("right", f"turn({TURN}, 0)", "Turn the mesh right"),
        Binding("up", f"turn(0, {TURN})", "Tilt the mesh up"),
        Binding("down", f"turn(0, {-TURN})", "Tilt the mesh down"),
        Binding("plus,equals_sign", f"zoom({ZOOM})", "Zoom in"),
        Binding("minus", f"zoom({1 / ZOOM})", "Zoom out"),
        Binding("0", "reset_view", "Reset the view"),
        Binding("h", "toggle_hidden", "Hidden edges: hide / show (x-ray)"),
    ]

    def values(self) -> tuple[ValueRecord, ...]:
        run = self.view.board.logdir.run(self.key.run)
        return () if run is None else mesh_frames(run, self.key.tag)  # type: ignore[return-value]

    def version(self) -> int:
        run = self.view.board.logdir.run(self.key.run)
        return -1 if run is None else mesh_version(run, self.key.tag)

    def camera(self) -> Camera:
        """The card's view: its turns and zoom (the defaults until a key moves them)."""
        base = Camera()
        return Camera(
            yaw=self.options.get("yaw", base.yaw),
            tilt=self.options.get("tilt", base.tilt),
            zoom=self.options.get("zoom", base.zoom),
        )

    def action_turn(self, d_yaw: float, d_tilt: float) -> None:
        cam = self.camera().turned(d_yaw, d_tilt)
        self.options["yaw"], self.options["tilt"] = cam.yaw, cam.tilt
        self.refresh()

    def action_zoom(self, factor: float) -> None:
        self.options["zoom"] = self.camera().zoomed(factor).zoom
        self.refresh()

    def action_toggle_hidden(self) -> None:
        self.options["xray"] = not self.options.get("xray", False)
        self.refresh()

    def action_reset_view(self) -> None:
        for k in ("yaw", "tilt", "zoom"):
            self.options.pop(k, None)
        self.refresh()


class MeshView(CardsView):
    KIND: ClassVar[str] = MESH
    CARD: ClassVar[type[Card]] = MeshCard
    CARD_WIDTH: ClassVar[int] = 40
    CARD_HEIGHT: ClassVar[int] = 18
    SLOW: ClassVar[bool] = True
    EMPTY: ClassVar[str] = "No meshes in the shown runs."

    def card_keys(self) -> list[CardKey]:
        """Mesh-name-major (the tag filter applies to the name), runs in the run panel's order,
        a card per sample of the latest step."""
        board = self.board
        by_name: dict[str, list[str]] = {}
        for name in board.visible_runs():
            run = board.logdir.run(name)
            if run is None:
                continue
            for mesh in mesh_names(run):
                if board.tag_matches(mesh):
                    by_name.setdefault(mesh, []).append(name)
        out: list[CardKey] = []
        for mesh in sorted(by_name):
            for name in by_name[mesh]:
                run = board.logdir.run(name)
                frames = mesh_frames(run, mesh) if run is not None else ()
                samples = frames[-1].samples if frames else 1
                out.extend(CardKey(name, mesh, i) for i in range(max(1, samples)))
        return out

    def title_extra(self, card: Card, value: ValueRecord) -> Text:
        head = Text()
        if not isinstance(value, MeshFrame):
            return head
        if value.samples > 1:
            head.append(f"  {card.key.sample + 1}/{value.samples}", style="dim")
        v = value.vertices
        n = v.shape[1] if v.ndim == 3 else 0
        f = value.faces
        faces = f"{f.shape[1]:,} faces" if f is not None and f.ndim == 3 else "points"
        head.append(f"  {n:,} vertices · {faces}", style="dim")
        if card.full and isinstance(card, MeshCard):
            cam = card.camera()
            head.append(
                f"  yaw {cam.yaw:.0f}° tilt {cam.tilt:.0f}° zoom {cam.zoom:.2g}×", style="dim"
            )
            if card.options.get("xray"):
                head.append("  x-ray", style="dim")
        return head

    def draw_body(self, card: Card, value: ValueRecord, width: int, height: int) -> RenderableType:
        """Worker thread: project and draw one mesh sample."""
        assert isinstance(value, MeshFrame) and isinstance(card, MeshCard)
        colour = self.board.colour_of(card.key.run)  # a read: card_keys() noted the run
        return mesh_block(
            value,
            card.key.sample,
            card.camera(),
            width,
            height,
            colour,
            self.board.theme,
            back_faces=bool(card.options.get("xray", False)),
        )
