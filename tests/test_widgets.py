import json
import time

import numpy as np
import pytest
import toy

from helpers import runs
from helpers.curves import plot_curves
from helpers.widgets import Choice, FixPanel, Slider, Toggle


def draw(fig, history, config):
    plot_curves(history, fig.subplots(), "loss", splits=("val",))


def make_panel():
    knobs = [
        Toggle("bug", "validation through the bug", False),
        Slider("rate", "learning speed", 0.1, 0.9, 0.1, 0.5),
        Choice("kind", "variant", [("first", "a"), ("second", "b")], "a"),
    ]
    return FixPanel(knobs, lambda **v: toy.ToyConfig(**v), draw, title="toy")


def val_line(panel):
    lines = {line.get_label(): line for line in panel.figure.axes[0].lines}
    return np.asarray(lines["validation"].get_ydata())


def test_toggle_changes_the_plotted_data_and_the_image(tmp_cache):
    panel = make_panel()
    before, png_before = val_line(panel), panel.image.value
    panel.controls["bug"].value = True  # as a click would
    after = val_line(panel)
    assert np.allclose(after / before, 3.0 / 1.1)
    assert bytes(panel.image.value) != bytes(png_before) and bytes(panel.image.value)[:4] == b"\x89PNG"
    assert len(panel.figure.axes) == 1  # redrawn in place, not stacked


def test_cached_redraw_serves_the_cache_and_says_so(tmp_cache):
    panel = make_panel()
    panel.set(bug=True)
    panel.set(bug=False)  # both cached now
    times = []
    for value in [True, False] * 5:
        panel.set(bug=value)
        assert panel.last_was_cached
        times.append(panel.last_redraw_seconds)
    assert all(t > 0 for t in times)  # how fast is make bench's job, not a test's on a loaded laptop
    assert "from the cache" in panel.status.value


def test_uncached_run_shows_progress_then_hides_it(tmp_cache):
    panel = make_panel()
    seen = []
    panel.progress.observe(lambda c: seen.append(c["new"]), names="value")
    panel.set(rate=0.3)
    assert not panel.last_was_cached
    assert seen[-1] == toy.ToyConfig().epochs
    assert panel.progress.layout.visibility == "hidden"


def test_impossible_combination_is_shown_not_raised(tmp_cache):
    panel = make_panel()
    panel.make_config = lambda **v: (_ for _ in ()).throw(ValueError("rate 0.3 needs kind 'b'"))
    panel.set(rate=0.3)
    assert "Not possible" in panel.status.value and "kind" in panel.status.value


def test_sliders_do_not_train_while_dragging(tmp_cache):
    panel = make_panel()
    assert panel.controls["rate"].continuous_update is False
    with pytest.raises(ValueError, match="unknown knob"):
        panel.set(speed=1)


def test_redraw_timing_is_measured(tmp_cache):
    panel = make_panel()
    start = time.perf_counter()
    panel.redraw()
    assert 0 < panel.last_redraw_seconds <= time.perf_counter() - start + 1e-6


def test_a_start_from_choice_moves_the_other_knobs(tmp_cache):
    knobs = [
        Toggle("bug", "validation through the bug", False),
        Slider("rate", "learning speed", 0.1, 0.9, 0.1, 0.5),
        Choice("kind", "start from", [("first", "a"), ("second", "b")], "a",
               presets={"a": {"rate": 0.5, "bug": False}, "b": {"rate": 0.9, "bug": True}}),
    ]
    panel = FixPanel(knobs, lambda **v: toy.ToyConfig(**v), draw)
    panel.controls["kind"].value = "b"  # as a click does
    assert panel.config == toy.ToyConfig(kind="b", rate=0.9, bug=True)
    panel.controls["rate"].value = 0.3  # then a slider moves from there
    assert panel.config == toy.ToyConfig(kind="b", rate=0.3, bug=True)
    panel.set(kind="a", rate=0.7)  # an explicit value wins over the preset
    assert panel.config == toy.ToyConfig(kind="a", rate=0.7, bug=False)


def test_presets_may_only_name_the_panels_knobs(tmp_cache):
    knobs = [Choice("kind", "start from", [("first", "a")], "a", presets={"a": {"colour": 1}})]
    with pytest.raises(ValueError, match="unknown knob"):
        FixPanel(knobs, lambda **v: toy.ToyConfig(**v), draw)


def test_an_uncached_run_draws_its_curves_while_it_trains(tmp_cache, monkeypatch):
    from helpers import widgets

    monkeypatch.setattr(widgets, "LIVE_EVERY_S", 0.0)  # every epoch a frame, so the test does not wait on a clock
    panel = make_panel()  # its first run trains too
    before = panel.live_frames
    frames, statuses = [], []
    panel.image.observe(lambda change: frames.append(bytes(change["new"])), names="value")
    panel.status.observe(lambda change: statuses.append(change["new"]), names="value")
    panel.set(rate=0.3)  # not cached: trains 5 epochs
    assert panel.live_frames - before == 5 and len(set(frames)) == 6  # five growing frames, then the result
    assert any("epoch 3 of 5" in s and "s left" in s for s in statuses)
    panel.set(rate=0.5)
    panel.set(rate=0.3)  # cached now: no live frame
    assert panel.live_frames - before == 5


def test_run_reports_each_epoch_to_live_only_when_training(tmp_cache):
    from helpers.runs import run

    seen = []
    run(toy.ToyConfig(epochs=4), live=lambda h: seen.append(h.n_epochs))
    assert seen == [1, 2, 3, 4]
    run(toy.ToyConfig(epochs=4), live=lambda h: seen.append(h.n_epochs))
    assert seen == [1, 2, 3, 4]  # cached: nothing trains, nothing to report


def test_a_committed_reference_run_is_shown_not_retrained(tmp_cache, tmp_path, monkeypatch):
    from helpers import paths, reference
    from helpers.runs import run

    stored = run(toy.ToyConfig(rate=0.3))
    stored.save(tmp_path / "ref" / "toy" / "rate-0-3" / "seed0")
    meta = {"seeds": [0], "runs": {"rate 0.3": {"folder": "rate-0-3", "class": "ToyConfig",
                                                "fields": reference._fields(toy.ToyConfig(rate=0.3)),
                                                "code": toy.ToyConfig().code_digest()}}}
    (tmp_path / "ref" / "toy" / "meta.json").write_text(json.dumps(meta))
    (tmp_path / "ref" / "broken").mkdir()
    (tmp_path / "ref" / "broken" / "meta.json").write_text("{not json")  # skipped, never fatal
    monkeypatch.setattr(paths, "REFERENCE", tmp_path / "ref")
    monkeypatch.setenv("GAP_CLINIC_CACHE", str(tmp_path / "empty-cache"))
    runs.forget_memory()
    assert reference.stored_run(toy.ToyConfig(rate=0.3)) == stored
    assert reference.stored_run(toy.ToyConfig(rate=0.3, seed=1)) is None  # a seed the reference lacks
    assert reference.stored_run(toy.ToyConfig(rate=0.4)) is None
    with monkeypatch.context() as m:
        m.setattr(toy.ToyConfig, "code_digest", lambda self, root=None: "edited")
        assert reference.stored_run(toy.ToyConfig(rate=0.3)) is None  # trained by other code: stale, never served
    panel = make_panel()  # draws its default (rate 0.5), trained
    toy.CALLS["n"] = 0
    panel.set(rate=0.3)
    assert toy.CALLS["n"] == 0 and panel.last_was_cached
    assert "committed reference" in panel.status.value
    panel.set(rate=0.4)
    assert toy.CALLS["n"] == 1 and not panel.last_was_cached
