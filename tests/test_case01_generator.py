"""Case 01: the augmenting validation generator, the sorted subset split, flips and mirror signs, recordings."""

import numpy as np
import pytest
from bands import band_suite

from helpers import doctor
from helpers.scenarios import case01_generator as case

pytestmark = pytest.mark.slow
POST = "the post"

(runs, measured, reference_measured, reference_claims, each_seed_measured, reference_runs, each_seed_runs,
 test_every_reference_seed_holds_the_claim, test_this_machine_holds_the_claim,
 test_this_machine_lands_in_the_reference_spread) = band_suite(case)


def test_the_issue_thresholds(each_seed_measured):
    measured = each_seed_measured
    assert measured["post_val_pass_spread"] > 0  # same weights, different scores: randomness reaches validation
    # Small: shear_range=0.2 is 0.2 degrees and zoom sits inside the data's own drift. Over seeds the mean
    # bias is -0.00 to +0.02, so what is asserted is its size, not its sign.
    assert abs(measured["post_clean_minus_augmented_val"]) < 0.06
    assert measured["flip_cost_test"] > 0.05  # the flip costs new signers; mirror pairs are not singled out
    assert measured["sorted_val_minus_test"] >= 0.2 and measured["random_val_minus_test"] >= 0.2
    # Each fix closes its gap.
    assert measured["fixed_val_pass_spread"] == 0 and measured["fixed_logged_minus_clean_val"] < 0.001
    assert measured["modern_logged_minus_clean_val"] < 0.001
    # The split by recording removes most of the optimism; what is left is recording-level noise (10 validation
    # and 20 test recordings), up to 0.17 over seeds, against 0.33–0.53 for the sorted subset.
    assert measured["recording_abs_val_minus_test"] < measured["sorted_val_minus_test"] - 0.1
    assert measured["modern_abs_val_minus_test"] < measured["sorted_val_minus_test"] - 0.1
    assert measured["mapped_val_pass_spread"] > 0  # the modern pipeline done wrong has the bug too


def test_legacy_subset_is_the_sorted_first_fifth_of_each_folder():
    """What flow_from_directory(subset='validation') really picks, against the helper that says so."""
    config = case.GeneratorConfig()
    with case.quiet():
        _, val_iterator = case.legacy_iterators(config)
    picked = sorted(case.Path(p).name for p in val_iterator.filepaths)
    _, expected = case.split_files(config)
    assert picked == sorted(f.name for f in expected)
    frames_a = sorted(case.frame_number(f) for f in val_iterator.filepaths if case.Path(f).parent.name == "A")
    per_class = config.sizes["recordings"] * config.sizes["frames"]
    # Lexicographic: A1, A10, A100 … — not a random fifth, and not the first frames either.
    names = sorted(f"A{i}.png" for i in range(1, per_class + 1))[: int(0.2 * per_class)]
    assert frames_a == sorted(case.frame_number(n) for n in names)
    assert frames_a != list(range(1, len(frames_a) + 1))
    assert max(np.diff(sorted(frames_a))) > 10  # blocks, not a spread


def test_splits_keep_recordings_whole_only_when_asked():
    config = case.GeneratorConfig(flip=False, augment_validation=False, split="recording")
    train, val = case.split_files(config)
    per = config.sizes["frames"]
    key = lambda f: (f.parent.name, case.recording_of(f, per))  # noqa: E731
    assert not {key(f) for f in train} & {key(f) for f in val}
    assert len({key(f) for f in val}) == config.sizes["classes"]
    train_r, val_r = case.split_files(config.replace(split="random"))
    assert {key(f) for f in val_r} <= {key(f) for f in train_r}  # every random val frame's recording is in train


def test_doctor_sees_randomness_reaching_validation(each_seed_runs):
    post, fixed = each_seed_runs[POST], each_seed_runs["legacy, every fix"]
    assert np.ptp(post.arrays["val_pipeline_passes"]) > 0 and np.ptp(fixed.arrays["val_pipeline_passes"]) == 0
    for split, leaky in (("sorted", True), ("random", True), ("recording", False)):
        config = case.GeneratorConfig(split=split)
        train, val = case.split_files(config)
        found = doctor.probe_split(train_groups=case.recording_ids(train, config),
                                   val_groups=case.recording_ids(val, config))
        assert ("SPLIT_OVERLAP" in doctor.codes(found)) is leaky, split


def test_validation_pipeline_changes_the_number_not_the_model(runs):
    """Exercise 1 of the notebook: switching validation to a rescale-only generator leaves training untouched."""
    from helpers.runs import run

    post = runs[POST]
    rescaled = run(case.configs()[POST].replace(augment_validation=False))
    for metric in ("train_eval_accuracy", "val_clean_accuracy", "test_accuracy", "loss"):
        assert np.array_equal(post[metric], rescaled[metric]), metric
    assert np.allclose(rescaled["val_accuracy"], rescaled["val_clean_accuracy"], atol=1e-6)  # float32 sums
    assert not np.array_equal(post["val_accuracy"], rescaled["val_accuracy"])


def test_file_names_follow_the_asl_set():
    assert case.file_name("A", 0) == "A1.png" and case.file_name("del", 9) == "del10.png"
    assert case.frame_number("nothing117.png") == 117 and case.frame_number("B3.png") == 3


def test_bad_knobs_name_the_allowed_values():
    with pytest.raises(ValueError, match=r"zoom=0.5 .*0.0, 0.1, 0.2, 0.3"):
        case.GeneratorConfig(zoom=0.5)
    with pytest.raises(ValueError, match="split='sorted' is the legacy generator's"):
        case.GeneratorConfig(api="modern", split="sorted")
    with pytest.raises(ValueError, match="flip=1 must be True or False"):
        case.GeneratorConfig(flip=1)


def test_panel_redraws_from_cache(runs):
    from helpers.widgets import FixPanel

    panel = FixPanel(case.knobs(), case.make_config, case.draw_panel)
    assert panel.last_was_cached and panel.config == case.configs()[POST]
    panel.set(flip=False)
    assert panel.last_was_cached and panel.config == case.configs()["the post without flip"]
    panel.set(api="modern")  # the legacy sorted split has no modern form: the panel says so, keeps its figure
    assert "Not possible" in panel.status.value


def test_forum_scale_has_the_posts_shape():
    config = case.configs("forum")[POST]
    s = config.sizes
    assert s["classes"] == 29 and s["classes"] * s["recordings"] * s["frames"] == 87_000 and s["image"] == 64
    model = case.build_model(config)
    assert model.input_shape == (None, 64, 64, 1) and model.output_shape == (None, 29)
