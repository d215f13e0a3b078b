"""FixPanel: switch each cause on and off and watch the curves answer.

The panel redraws one PNG image in place (no stacked outputs, no flicker):
a cached run redraws in well under a second; an uncached one trains with a
progress bar. Every control uses ``continuous_update=False`` so a slider drag
trains once, at release.
"""

from __future__ import annotations

import base64
import html
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
from matplotlib.figure import Figure

from helpers.curves import figure_png
from helpers.reference import stored_run
from helpers.runs import History, RunConfig, is_cached, run

Draw = Callable[..., None]  # draw(fig, history, config, **view_values)
_STYLE = {"description_width": "initial"}


@dataclass(frozen=True)
class Toggle:
    """An on/off cause: ``name`` is the config field, ``label`` what the student reads."""

    name: str
    label: str
    default: bool

    def widget(self) -> widgets.Widget:
        return widgets.Checkbox(value=self.default, description=self.label, indent=False, style=_STYLE)


@dataclass(frozen=True)
class Choice:
    """One of a few options, shown as buttons; ``options`` are (label, value) pairs.

    presets: for a "start from" choice, the other knobs' values each option sets
    (``{option value: {knob name: value}}``), so choosing it really starts from it.
    """

    name: str
    label: str
    options: Sequence[tuple[str, Any]]
    default: Any
    presets: Mapping[Any, Mapping[str, Any]] | None = None

    def widget(self) -> widgets.Widget:
        return widgets.ToggleButtons(
            options=list(self.options), value=self.default, description=self.label,
            style={"description_width": "initial", "button_width": "auto"}, layout={"width": "auto"},
        )


@dataclass(frozen=True)
class Slider:
    """A number in [low, high]; ``step`` sets the grid of cacheable values."""

    name: str
    label: str
    low: float
    high: float
    step: float
    default: float

    def widget(self) -> widgets.Widget:
        integer = all(float(v).is_integer() for v in (self.low, self.high, self.step, self.default))
        cls = widgets.IntSlider if integer else widgets.FloatSlider
        kwargs = {} if integer else {"readout_format": ".3g"}
        cast = int if integer else float
        return cls(
            value=cast(self.default), min=cast(self.low), max=cast(self.high), step=cast(self.step),
            description=self.label, continuous_update=False, style=_STYLE, layout={"width": "420px"},
            **kwargs,
        )


@dataclass(frozen=True)
class Levels:
    """A slider over a few fixed values (each one a cacheable run)."""

    name: str
    label: str
    values: Sequence[Any]
    default: Any

    def widget(self) -> widgets.Widget:
        return widgets.SelectionSlider(options=list(self.values), value=self.default, description=self.label,
                                       continuous_update=False, style=_STYLE, layout={"width": "420px"})


Knob = Toggle | Choice | Slider | Levels
LIVE_EVERY_S = 1.0  # seconds between two frames of a run in training


def draw_growing_curves(fig: Figure, history: History, config: RunConfig | None) -> None:
    """The live view of a run in training: loss and accuracy so far, on the epoch axis of the whole run."""
    from helpers.curves import plot_curves

    total = config.epochs if config is not None else history.n_epochs
    for ax, metric in zip(fig.subplots(1, 2), ("loss", "accuracy"), strict=True):
        if metric in history or f"val_{metric}" in history:
            plot_curves(history, ax, metric, title=f"{metric}: epoch {history.n_epochs} of {total}, training…")
        ax.set_xlim(0.5, total + 0.5)


class FixPanel:
    """Controls over a scenario's config space, and one figure that answers them.

    knobs: the controls; each ``name`` is a keyword of ``make_config``.
    make_config: builds the run's config from the knob values (raises ValueError
    for a combination that cannot work; the panel shows the message).
    draw: fills a cleared Figure: ``draw(fig, history, config, **view_values)``.
    view: names of knobs that change only the picture (which metric to show),
    never the run; they go to ``draw``, not to ``make_config``.

    ``image`` always shows the current state; ``figure`` holds the last state
    actually drawn (a state seen before is served from its memoised PNG).
    """

    def __init__(
        self,
        knobs: Sequence[Knob],
        make_config: Callable[..., RunConfig],
        draw: Draw,
        *,
        figsize: tuple[float, float] = (10.5, 3.8),
        title: str = "",
        view: Sequence[str] = (),
    ) -> None:
        self.knobs = list(knobs)
        self.view = tuple(view)
        self.make_config = make_config
        self.draw = draw
        self.figure = Figure(figsize=figsize)
        self.controls = {knob.name: knob.widget() for knob in self.knobs}
        self.image = widgets.Image(format="png", layout={"width": "100%", "max_width": f"{int(figsize[0] * 90)}px"})
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="training", style=_STYLE,
                                            layout={"visibility": "hidden"})
        self.status = widgets.HTML()
        self.history: History | None = None
        self.config: RunConfig | None = None
        self.last_redraw_seconds = float("nan")
        self.last_was_cached = False
        self._holding = False
        # Constrained layout costs a second full draw; it runs once, then the axes
        # positions it found are reused. A state seen before is served as its PNG.
        self._positions: dict[int, list] = {}
        self._png: dict[tuple, bytes] = {}
        self.live_frames = 0  # figures drawn while a run trained (the curves growing), since the panel was made
        self.config_in_training: RunConfig | None = None
        self._training_since = self._last_live = 0.0
        header = [widgets.HTML(f"<b>{html.escape(title)}</b>")] if title else []
        self.box = widgets.VBox([*header, *self.controls.values(), self.progress, self.status, self.image])
        for knob in self.knobs:
            presets = getattr(knob, "presets", None) or {}
            unknown = {k for preset in presets.values() for k in preset} - set(self.controls)
            if unknown:
                raise ValueError(f"{knob.name}'s presets set unknown knob(s) {sorted(unknown)}; "
                                 f"this panel has {sorted(self.controls)}.")
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.redraw()

    def values(self) -> dict[str, Any]:
        """The current knob values, by config field name."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values: Any) -> None:
        """Set several knobs at once and redraw once (for code and tests)."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown knob(s) {sorted(unknown)}; this panel has {sorted(self.controls)}.")
        self._holding = True
        try:
            for name, value in values.items():
                preset = (getattr(self._knob(name), "presets", None) or {}).get(value, {})
                for other, other_value in preset.items():
                    if other not in values:  # an explicit value wins over the preset
                        self.controls[other].value = other_value
                self.controls[name].value = value
        finally:
            self._holding = False
        self.redraw()

    def redraw(self) -> None:
        """Run (or read from cache) the config the knobs describe, and redraw the figure."""
        start = time.perf_counter()
        values = self.values()
        view_values = {name: values.pop(name) for name in self.view}
        try:
            config = self.make_config(**values)
        except ValueError as err:
            self.status.value = f"<span style='color:#b00'>Not possible: {html.escape(str(err))}</span>"
            return
        cached = is_cached(config)
        stored = None if cached else stored_run(config)  # a committed reference run: shown, not retrained
        self.last_was_cached = cached or stored is not None
        self.config_in_training = config
        if not self.last_was_cached:
            self.progress.value, self.progress.max = 0, config.epochs
            self.progress.layout.visibility = "visible"
        self._training_since, self._last_live = time.perf_counter(), 0.0
        try:
            history = stored if stored is not None else run(config, progress=self._progress, live=self._live)
        finally:
            self.progress.layout.visibility = "hidden"
        state = (config.cache_key(), tuple(sorted(view_values.items())))
        if state not in self._png:
            self._png[state] = self._render(history, config, view_values)
        self.image.value = self._png[state]
        self.history, self.config = history, config
        self.last_redraw_seconds = time.perf_counter() - start
        source = ("from the committed reference" if stored is not None else "from the cache" if cached
                  else "trained just now")
        self.status.value = f"<small>run {source} · drawn in {self.last_redraw_seconds:.2f} s</small>"

    def _render(self, history: History, config: RunConfig, view_values: dict[str, Any]) -> bytes:
        self.figure.clear()
        self.draw(self.figure, history, config, **view_values)
        axes = self.figure.axes
        frozen = self._positions.get(len(axes))
        if frozen is None:
            self.figure.set_layout_engine("constrained")
            png = figure_png(self.figure)
            self._positions[len(axes)] = [ax.get_position(original=False) for ax in axes]
            return png
        self.figure.set_layout_engine(None)
        for ax, box in zip(axes, frozen, strict=True):
            ax.set_position(box)
        return figure_png(self.figure)

    def _progress(self, done: int, total: int) -> None:
        self.progress.max = total
        self.progress.value = done
        elapsed = time.perf_counter() - self._training_since
        left = elapsed / max(done, 1) * (total - done)
        self.status.value = f"<small>training: epoch {done} of {total} · about {left:.0f} s left</small>"

    def _live(self, history: History) -> None:
        """Draw the curves so far while a run trains (at most about once a second: a PNG costs ~0.2 s)."""
        now = time.perf_counter()
        if history.n_epochs > 1 and now - self._last_live < LIVE_EVERY_S:
            return
        self._last_live = now
        self.image.value = self._render_live(history)
        self.live_frames += 1

    def _render_live(self, history: History) -> bytes:
        self.figure.clear()
        self.figure.set_layout_engine("constrained")
        draw_growing_curves(self.figure, history, self.config_in_training)
        return figure_png(self.figure)

    def _on_change(self, change: dict) -> None:
        if self._holding:
            return
        name = next(n for n, control in self.controls.items() if control is change["owner"])
        preset = (getattr(self._knob(name), "presets", None) or {}).get(change["new"])
        if preset:  # a "start from" choice: move the other knobs to where that option starts, then draw once
            self.set(**preset)
        else:
            self.redraw()

    def _knob(self, name: str) -> Knob:
        return next(knob for knob in self.knobs if knob.name == name)

    @classmethod
    def for_case(cls, case: Any, **kwargs: Any) -> FixPanel:
        """The panel of a scenario module: its ``knobs()``, ``make_config`` and ``draw_panel``."""
        return cls(case.knobs(), case.make_config, case.draw_panel, **kwargs)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        # The picture rides along as image/png: a front end with a widget manager shows the live panel,
        # and a saved notebook read without a kernel (GitHub, nbviewer, a static site) still shows a figure.
        make = getattr(self.box, "_repr_mimebundle_", None)
        if make is not None:
            bundle = make(**kwargs)
        else:  # ipywidgets 7 (Colab's) shows a widget through _ipython_display_; this is the bundle it sends
            bundle = {"text/plain": repr(self.box),
                      "application/vnd.jupyter.widget-view+json": {
                          "version_major": 2, "version_minor": 0, "model_id": self.box._model_id}}
        if isinstance(bundle, tuple):  # (data, metadata)
            bundle = bundle[0]
        bundle = dict(bundle or {})
        if self.image.value:
            bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle
