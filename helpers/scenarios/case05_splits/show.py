"""Case 05, what the notebook prints: named helpers, so no reference or claim plumbing sits where students read."""

from __future__ import annotations

import numpy as np

from helpers.runs import History
from helpers.scenarios.case05_splits.claims import final, slug_claim
from helpers.scenarios.case05_splits.figures import grid_table, nearest_other_recording, nearest_training_windows
from helpers.scenarios.case05_splits.runs import BEST, MOST, POST, POST_LONGER, SEPARATE, WINDOWS, SplitsConfig, configs

CASE_KEY = "05_leaky_and_shuffled_splits"


def reference_runs() -> list[dict[str, History]]:
    """Every reference run, one {run name: History} per seed (0, 1, 2), as committed (trained once, never here)."""
    from helpers import reference

    return reference.load(CASE_KEY)


def _claims() -> dict:
    from helpers import reference

    return reference.claims(CASE_KEY)


def run_data(name: str, scale: str = "mini") -> dict[str, np.ndarray]:
    """The data of the reference run called ``name`` (seed 0): windows, labels, recording and frame ids."""
    from helpers.scenarios.case05_splits.lab import load_data

    return load_data(configs(scale)[name])


def _per_seed(values: list[float]) -> str:
    return ", ".join(f"{v:+.3f}" for v in values)


def _paired(reference_runs: list[dict[str, History]], name: str, baseline: str) -> str:
    """Run ``name`` minus ``baseline`` on new recordings, per seed: the last LAST epochs' mean (the figures' dots),
    then the last epoch alone, to show whether a small margin survives the epoch read."""
    from helpers.scenarios.case05_splits.figures import last_epoch_test

    mean = [final(r[name], "test_accuracy") - final(r[baseline], "test_accuracy") for r in reference_runs]
    last = [last_epoch_test(r[name]) - last_epoch_test(r[baseline]) for r in reference_runs]
    return f"{_per_seed(mean)} (last epoch alone: {_per_seed(last)})"


def signed_val_minus_test(reference_runs: list[dict[str, History]], name: str) -> list[float]:
    """Validation minus new-recording accuracy (last LAST epochs) of run ``name``, one per seed: positive means
    validation promised more than new recordings gave."""
    return [final(r[name], "val_accuracy") - final(r[name], "test_accuracy") for r in reference_runs]


def show_story(reference_runs: list[dict[str, History]]) -> None:
    """The three stories' numbers (mean [min, max] over seeds), validation − test with its sign per seed."""
    c = _claims()
    for label, claim in [("split by recording: train (re-scored)", "post_train_accuracy"),
                         ("split by recording: validation", "post_val_accuracy"),
                         ("split by recording: train − validation", "post_train_minus_val"),
                         ("random window split: train − validation", "windows_train_minus_val"),
                         ("random window split: validation − new recordings", "windows_val_minus_test"),
                         (f"separate shuffles ({reference_runs[0][SEPARATE].n_epochs} epochs): train (re-scored)",
                          "separate_train_accuracy"),
                         ("separate shuffles: validation (chance 0.10)", "separate_val_accuracy")]:
        print(f"{label:52s} {c[claim]}")
    print(f"split by recording: validation − new recordings, seeds 0, 1, 2: "
          f"{_per_seed(signed_val_minus_test(reference_runs, POST))} (epochs: {reference_runs[0][POST].n_epochs})")
    for name, split in ((POST, "split by recording"), (WINDOWS, "random window split")):
        info, config = reference_runs[0][name].info, configs()[name]
        everyone = info["classes"] * config.recordings
        trained_on = everyone - info["val_recordings"] if config.split == "recording" else everyone
        print(f"{split}: new recordings {_spread([final(r[name], 'test_accuracy') for r in reference_runs])}; "
              f"trains on {info['n_train']} windows from {trained_on} of the {everyone} recordings")


def show_grid(reference_runs: list[dict[str, History]]) -> None:
    """The 30-epoch grid: each change against the post on the same seed, and what the per-seed pairs say."""
    from helpers.scenarios.case05_splits.runs import fixes, regularisers

    c = _claims()
    print(f"the post, new-recording accuracy: {c['post_test_accuracy']} "
          f"({reference_runs[0][POST].info['n_test']} windows of {reference_runs[0][POST].info['test_recordings']} "
          f"new recordings; mean of the last 3 epochs)")
    print("change against the post, same seed (mean [min, max] over seeds):")
    for name, mean, low, high in grid_table(reference_runs, [*regularisers(), *fixes()]):
        print(f"  {name:40s} {mean:+.2f} [{low:+.2f}, {high:+.2f}]")
    for name in ("dropout on the frames only", MOST):
        print(f"paired change, seeds 0, 1, 2, {name}: {_paired(reference_runs, name, POST)}")
    print(f"training accuracy (re-scored): the post {c['post_train_accuracy']}, "
          f"one LSTM unit {c['lstm_1_unit_train_accuracy']}")
    print(f"  augmentation {c['augmentation_shift_lighting_train_accuracy']}, "
          f"smaller CNN {c['smaller_per_frame_cnn_train_accuracy']}")


def show_lstm_input_weights(scale: str = "mini") -> None:
    """The weights of the LSTM's input kernel (per-frame flatten × 4 gates × units) against the whole network, at
    this scale and at the post's sizes (the models are built, nothing trains)."""
    from helpers.scenarios.case05_splits.lab import build_model

    for label, s in (("this notebook", scale), ("the post's sizes", "forum")):
        model = build_model(configs(s)[POST])
        flatten = next(layer for layer in model.layers if "Flatten" in repr(getattr(layer, "layer", layer)))
        lstm = next(layer for layer in model.layers if "LSTM" in type(layer).__name__)
        width, grid = int(np.prod(flatten.output.shape[2:])), "×".join(str(d) for d in flatten.input.shape[2:])
        kernel = width * lstm.kernel.shape[1] if hasattr(lstm, "kernel") else int(lstm.cell.kernel.shape[0]
                                                                                  * lstm.cell.kernel.shape[1])
        print(f"{label:17s} map {grid:>7s} -> flatten {width:5,} numbers -> LSTM input kernel {kernel:7,} weights "
              f"= {kernel / model.count_params():.0%} of {model.count_params():,}")


def show_recordings(reference_runs: list[dict[str, History]]) -> None:
    """More recordings, 30 epochs: the numbers under the recordings figure, and each run's training windows."""
    from helpers.scenarios.case05_splits.runs import fixes

    c = _claims()
    for name in (POST, "12 recordings per class", MOST):
        info = reference_runs[0][name].info
        config = {**configs(), **fixes()}[name]
        trained_on = info["classes"] * config.recordings - info["val_recordings"]
        print(f"{name:40s} trains on {info['n_train']} windows from {trained_on} recordings "
              f"(validation: {info['val_recordings']} recordings)")
    for label, claim in [("new recordings, 24 per class", "most_recordings_test_accuracy"),
                         ("gain over the post, 12 per class (same windows)", "12_recordings_per_class_test_change"),
                         ("gain over the post, 24 per class", "24_recordings_per_class_test_change"),
                         ("24 per class: train (re-scored)", "most_recordings_train_accuracy"),
                         ("24 per class: train − validation", "most_recordings_train_minus_val")]:
        print(f"{label:50s} {c[claim]}")


def show_longer(reference_runs: list[dict[str, History]]) -> None:
    """Every run given 60 epochs, against the post at 60; the highest mean on new recordings, which was picked on
    those same new recordings, with its validation − test signed."""
    from helpers.scenarios.case05_splits.runs import longer

    c = _claims()
    print(f"the post, 60 epochs instead of 30: change in new-recording accuracy {c['post_longer_test_change']}")
    print("change against the post at 60 epochs, same seed:")
    for name in list(longer())[1:]:
        slug = slug_claim(name)
        print(f"  {name:50s} {c[f'{slug}_test_change']}   training {c[f'{slug}_train_accuracy']}")
    print(f"paired change, seeds 0, 1, 2, augmentation, 60 epochs: "
          f"{_paired(reference_runs, 'augmentation, 60 epochs', POST_LONGER)}")
    print(f"largest gain of the four regularisers, per seed: {c['regulariser_longer_largest_test_gain']}")
    print(f"{BEST}: new recordings {c['best_test_accuracy']}, minus 24 recordings alone "
          f"{c['best_minus_recordings_alone']}")
    for name in (POST_LONGER, BEST):
        print(f"validation − new recordings, seeds 0, 1, 2, {name}: "
              f"{_per_seed(signed_val_minus_test(reference_runs, name))}")


def show_source() -> None:
    """The transfer run's source task: how well each seed's source network learnt it (trained if not cached)."""
    from helpers.runs import run
    from helpers.scenarios.case05_splits.lab import SourceConfig
    from helpers.scenarios.case05_splits.runs import SOURCE_CLASSES

    source = [run(SourceConfig(seed=s)) for s in (0, 1, 2)]
    print(f"source task: {SOURCE_CLASSES} synthetic patterns, {source[0].n_epochs} epochs; "
          "training accuracy (logged), last epoch, seeds 0-2:",
          ", ".join(f"{h['accuracy'][-1]:.2f}" for h in source),
          f"(chance 1/{SOURCE_CLASSES} = {1 / SOURCE_CLASSES:.2f})")


def _spread(values: list[float], signed: bool = False) -> str:
    f = "+.3f" if signed else ".3f"
    return f"{np.mean(values):{f}} [{min(values):{f}}, {max(values):{f}}]"


def show_choice(reference_runs: list[dict[str, History]]) -> None:
    """The choice as a project makes it: the runs ranked on validation (mean of seeds 0, 1, 2), the chosen run's
    test beside its validation (a study of validation's error; the arc reads the test once after retraining, in
    show_retrained), validation − test signed; first from the runs on the post's 6 recordings
    (the realistic pool), then, for contrast, from every run split by recording."""
    from helpers.scenarios.case05_splits.claims import choose_on_validation
    from helpers.scenarios.case05_splits.runs import candidates

    pool = candidates()
    for label, names in (("runs on 6 recordings per class, our stand-in for the post",
                          [n for n, c in pool.items() if c.recordings == 6]),
                         ("for contrast, every run split by recording (more data: not a model choice a project can "
                          "make by validation)", list(pool))):
        ranked = choose_on_validation(reference_runs, names)
        print(f"{label} ({len(names)} runs), top 3 on validation (mean of 3 seeds):")
        for name, value in ranked[:3]:
            print(f"   {value:.3f}  {name}")
        chosen = ranked[0][0]
        alone = [choose_on_validation([r], names)[0][0] for r in reference_runs]
        print(f" each seed alone would choose: {'; '.join(alone)}")
        val = [final(r[chosen], "val_accuracy") for r in reference_runs]
        test = [final(r[chosen], "test_accuracy") for r in reference_runs]
        print(f" chosen: {chosen} (validated on {reference_runs[0][chosen].info['val_recordings']} recordings)\n"
              f"   validation {_spread(val)}, test {_spread(test)}")
        print(f"   validation − test {_spread([v - t for v, t in zip(val, test, strict=True)], signed=True)}, "
              f"seeds 0, 1, 2: {_per_seed(signed_val_minus_test(reference_runs, chosen))}")


def show_cross_validation(reference_runs: list[dict[str, History]]) -> None:
    """The two leading runs of the 6-recording pool, cross-validated on each seed's one dataset (3 folds: every one
    of its 60 recordings validates once): the choice, and cross-validation − test beside the single split's."""
    from helpers.scenarios.case05_splits.claims import cross_validation

    print("grouped 3-fold cross-validation, each seed's 60 recordings (40 train, 20 validate per fold):")
    cv, single = [], []
    for seed, runs in enumerate(reference_runs):
        scores = cross_validation(runs)
        chosen = max(scores, key=lambda name: scores[name][0])
        cells = "; ".join(f"{name}: CV {v:.3f}, fold models' test {t:.3f}" for name, (v, t) in scores.items())
        cv.append(scores[chosen][0] - scores[chosen][1])
        single.append(signed_val_minus_test([runs], chosen)[0])
        print(f" seed {seed}: {cells}\n   chooses {chosen}: CV − fold models' test {cv[-1]:+.3f}, "
              f"one split's validation − test {single[-1]:+.3f}")
    print(f"mean of the seeds: CV − fold models' test {np.mean(cv):+.3f}, "
          f"one split's validation − test {np.mean(single):+.3f}")


def show_retrained(reference_runs: list[dict[str, History]]) -> None:
    """The last step of the arc, on the 6-recording pool: the chosen configuration's validation, the same configuration
    retrained on train + validation (same epochs) and its test read once, validation − test signed; then, as a teaching
    comparison that reads the test a second time, the retrained model's test beside the train-only model's."""
    from helpers.scenarios.case05_splits.runs import AUGMENTED_LONGER, RETRAINED

    val = [final(r[AUGMENTED_LONGER], "val_accuracy") for r in reference_runs]
    test = [final(r[RETRAINED], "test_accuracy") for r in reference_runs]
    alone = [final(r[AUGMENTED_LONGER], "test_accuracy") for r in reference_runs]
    first, chosen = reference_runs[0][RETRAINED], reference_runs[0][AUGMENTED_LONGER]
    print(f"chosen: {AUGMENTED_LONGER}; validation {_spread(val)}")
    print(f"retrained on train + validation: {first.info['train_recordings'] - chosen.info['val_recordings']} -> "
          f"{first.info['train_recordings']} recordings, {chosen.info['n_train']} -> {first.info['n_train']} windows")
    print(f"   test (read once) {_spread(test)}")
    print(f"   validation − test {_spread([v - t for v, t in zip(val, test, strict=True)], signed=True)}, "
          f"seeds 0, 1, 2: {_per_seed([v - t for v, t in zip(val, test, strict=True)])}")
    print(f"teaching comparison (reads the test a second time): retrained − train-only model's test, seeds 0, 1, 2: "
          f"{_per_seed([t - a for t, a in zip(test, alone, strict=True)])}")


# Recordings per class the post cells offer, each with the window stride of its committed run (12 per class every
# 2nd frame: the post's number of training windows; 24 every 3rd: 1.5 times as many).
POST_RECORDINGS = {6: 1, 12: 2, 24: 3}


def post_data(split: str = "recording", recordings: int = 6, seed: int = 0) -> dict:
    """The post's windows split as ``split`` says: "recording" (whole recordings to one side, a third of each class's
    in validation) or "window" (a random 80/20 of windows); new-recording test windows beside them. ``recordings``
    per class: 6 (our stand-in for the post's unknown count), 12 or 24, at the stride of the committed run with as
    many. The same data as the reference run of that setting and seed; ``data["split"]`` and
    ``data["recordings"]`` record the setting, so the figure draws that setting's committed seeds beside it."""
    from helpers.scenarios.case05_splits.lab import load_data
    from helpers.validate import check_choice

    check_choice("recordings", recordings, tuple(POST_RECORDINGS))
    config = SplitsConfig(seed=seed, split=split, recordings=recordings, stride=POST_RECORDINGS[recordings])
    return {**load_data(config), "split": split, "recordings": recordings}


def show_nearest(data: dict[str, np.ndarray], n: int = 3) -> None:
    """For the strip's validation windows: RMS distance to the nearest training window (the figure's), and to the
    nearest training window of another recording, for scale."""
    nearest, other = nearest_training_windows(data, n), nearest_other_recording(data, n)
    for (i, j, d), (_, _, e) in zip(nearest, other, strict=True):
        same = "same" if data["recording_val"][i] == data["recording_train"][j] else "another"
        print(f"val #{i}: nearest training window {d:.2f} sd ({same} recording); "
              f"nearest from another recording {e:.2f} sd")


def run_seeds(**knobs) -> list[History]:
    """Train the post's network with ``knobs`` changed (SplitsConfig's fields, e.g. augment=True, epochs=60) on
    seeds 0, 1 and 2; one History per seed (cached runs load at once; new ones take minutes per seed)."""
    from helpers.runs import run_seeds as seeds

    return seeds(SplitsConfig(**knobs))
