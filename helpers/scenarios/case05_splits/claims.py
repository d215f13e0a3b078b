"""Case 05, what the notebook's words claim (BANDS) and the measurements behind them."""

from __future__ import annotations

import numpy as np

from helpers.runs import LAST, History
from helpers.scenarios.case05_splits.runs import (
    AUGMENTED_LONGER,
    BEST,
    BOOTSTRAP,
    CROSS_VALIDATED,
    LONGER_EPOCHS,
    MORE_RECORDINGS,
    MOST,
    POST,
    POST_LONGER,
    RECORDINGS_LONGER,
    REGULARISERS_LONGER,
    RETRAINED,
    SEPARATE,
    WINDOWS,
    candidates,
    fixes,
    folds,
    longer,
    regularisers,
)

# What the notebook's words claim, one band each; every reference seed (data/reference) and every
# retrain on a student's machine must land inside (tests/test_contract.py).
BANDS: dict[str, tuple[float, float]] = {
    # The post's curves on the honest split: training climbs to the top, validation stops far below, and the
    # new recordings are as poor as validation says.
    "post_train_accuracy": (0.9, 1.0),
    "post_val_accuracy": (0.25, 0.75),
    "post_train_minus_val": (0.25, 0.75),
    "post_test_accuracy": (0.25, 0.6),
    "post_abs_val_minus_test": (0.0, 0.25),  # validation (20 recordings) and test (40) disagree by noise only
    "post_gap_beyond_disagreement": (0.1, 0.75),  # train − val exceeds |val − test|: the gap is not split noise
    "post_val_sharing_recording": (0.0, 0.0),
    # The random split of windows: validation tracks training (nearly every validation window shares frames
    # with training) and overstates the new recordings by far more than the honest split's disagreement.
    "windows_train_minus_val": (-0.05, 0.08),
    "windows_val_minus_test": (0.25, 0.7),
    "windows_val_sharing_frame": (0.95, 1.0),
    # X and y shuffled separately: validation at chance (0.10), and training barely leaves it in 20 epochs:
    # a flat training curve, not the post's climbing one.
    "separate_val_accuracy": (0.0, 0.15),
    "separate_train_accuracy": (0.08, 0.35),
    # The grid (reference only; tests/test_case05_splits.py retrains the story runs and one fix). Each change is
    # new-recording accuracy minus the post's, same seed. The learning-rate (step) schedule slows the fit and lowers
    # it on every seed.
    "learning_rate_schedule_test_change": (-0.2, -0.01),
    # Removing all dropout moves it by less than the seeds scatter on their own, either sign.
    "no_dropout_test_change": (-0.12, 0.08),
    # One LSTM unit (the poster's lower end) is too few here: training itself stalls, and new recordings drop.
    "lstm_1_unit_train_accuracy": (0.1, 0.5),
    "lstm_1_unit_test_change": (-0.45, -0.05),
    # No regulariser of the twelve raises new-recording accuracy by more than the post's own seeds scatter (they span
    # ~0.08) on any seed; the largest gain of the twelve is a few points.
    "regulariser_largest_test_gain": (-0.1, 0.12),
    # Above the post on every seed in the last-3-epoch mean (the figures' dots): the posted dropout on the frames only
    # (none in the head), by a few points; at the last epoch alone one seed flips, so the notebook says "not settled".
    "dropout_on_the_frames_only_test_change": (0.0, 0.12),
    # Lower on every seed: fewer units, a second LSTM, strong L2 (and the schedule, above).
    "lstm_4_units_test_change": (-0.3, 0.0),
    "two_lstm_layers_test_change": (-0.3, 0.0),
    "l2_0_05_test_change": (-0.15, 0.0),
    # In 30 epochs none of the three changes that add no recording helps; augmentation and the smaller CNN have not
    # fitted their training windows (the post: 0.99), and the smaller CNN lowers it on every seed.
    "no_new_recording_largest_test_gain": (-0.15, 0.08),
    "augmentation_shift_lighting_train_accuracy": (0.6, 0.93),
    "smaller_per_frame_cnn_train_accuracy": (0.5, 0.93),
    "smaller_per_frame_cnn_test_change": (-0.3, -0.03),
    "more_recordings_minus_best_no_new_recording": (0.05, 0.5),
    # Given 60 epochs (against the post given 60: it gains a few points itself, training at 1.0), augmentation is above
    # the post on average (every seed in the last-3 mean, one by under 2 test windows, which flips at the last epoch),
    # the smaller CNN still lowers it, 24 recordings gain far more than at 30 epochs, and with augmentation
    # they reach about 0.8 on new recordings on every seed (the highest mean measured), with a small train - val gap.
    # Whether augmentation adds to 24 recordings is not settled: positive on average, not on every seed.
    "post_longer_test_change": (0.0, 0.15),
    # The poster's regularisers given the same 60 epochs: still a few points at most; 24 recordings gain several times
    # the best of them on the same seed.
    "regulariser_longer_largest_test_gain": (-0.1, 0.12),
    "recordings_longer_minus_best_regulariser": (0.1, 0.5),
    "augmentation_60_epochs_test_change": (0.0, 0.3),
    "augmentation_60_epochs_train_accuracy": (0.93, 1.0),
    "smaller_per_frame_cnn_60_epochs_test_change": (-0.3, -0.02),
    "24_recordings_per_class_60_epochs_test_change": (0.15, 0.5),
    "recordings_longer_minus_shorter_gain": (0.0, 0.3),  # more than at 30 epochs, on every seed
    "best_test_accuracy": (0.7, 0.95),
    "best_train_minus_val": (0.0, 0.3),
    "best_minus_recordings_alone": (-0.1, 0.2),
    "best_minus_augmentation_alone": (0.1, 0.5),
    # Four times the recordings raise it on every seed, by more than the best regulariser on the same seed.
    "24_recordings_per_class_test_change": (0.08, 0.4),
    # Twice the recordings at the same number of training windows: higher on average, not on every seed
    "12_recordings_per_class_test_change": (-0.08, 0.2),
    "more_recordings_minus_best_regulariser": (0.05, 0.5),
    # 24 recordings per class in 30 epochs: new-recording accuracy about 0.6 (each seed above 0.5), and a narrower
    # train − val gap (it is not yet fitted: 60 epochs, below, do better).
    "most_recordings_test_accuracy": (0.5, 0.85),
    "most_recordings_train_minus_val": (0.1, 0.45),
    "most_recordings_train_accuracy": (0.8, 0.97),  # it no longer fits every training window in 30 epochs
    "most_recordings_gap_narrowing": (0.03, 0.5),
    # The choice on validation (highest mean validation over seeds, every run split by recording: BEST; the test
    # asserts it). Its validation beats every run on the post's 6 recordings on every seed, and its validation and
    # test agree to a few points (below on the three seeds, +0.013 above on the numerics variant: claimed by size).
    "chosen_val_accuracy": (0.65, 0.9),
    "chosen_val_minus_test": (-0.12, 0.03),
    "chosen_val_margin_over_six_recordings": (0.0, 0.35),
    # Chosen from the post's 6 recordings only (the realistic pool, printed first: augmentation, 60 epochs): validation
    # overstates test on every seed.
    "augmentation_60_epochs_val_minus_test": (0.03, 0.3),
    # Cross-validated by recording on each seed's one dataset (3 folds, the 6-recording pool's two leaders): it picks
    # augmentation, 60 epochs, on every seed (the test asserts it), and still overstates its test on every seed.
    "cross_validated_val_minus_test": (0.0, 0.2),
    # The 6-recording pool's choice (augmentation, 60 epochs) retrained on train + validation (60 recordings per class
    # instead of 40, same 60 epochs), its test read once: about 0.66 on every seed. The chosen run's validation misses
    # it by up to about 0.13, with a sign that changes with the seed (claimed by size, not sign). As a teaching
    # comparison (a second reading of the test), retraining scores higher than the train-only model on every seed.
    "retrained_test_accuracy": (0.55, 0.8),
    "chosen_val_minus_retrained_test": (-0.2, 0.2),
    "retrained_minus_chosen_test": (0.02, 0.25),
}
# --- measurements -------------------------------------------------------------------


def final(history: History, metric: str) -> float:
    """A run's "final" number: the mean over its last LAST epochs (one epoch on 20 recordings is noisy)."""
    return history.final(metric, LAST)


def slug_claim(name: str) -> str:
    """A claim name from a run name ("LSTM 1 unit" -> "lstm_1_unit")."""
    import re

    return re.sub(r"[^a-z0-9]+", "_", name.lower().replace("×", "x")).strip("_")


def measure(histories: dict[str, History]) -> dict[str, float]:
    """The numbers behind each claim, from one seed's runs: the story's always, the grid's when given."""
    h = histories
    post, leak, separate = h[POST], h[WINDOWS], h[SEPARATE]
    base = final(post, "test_accuracy")
    out = {
        "separate_train_accuracy": final(separate, "train_eval_accuracy"),
        "separate_val_accuracy": final(separate, "val_accuracy"),
        "post_train_accuracy": final(post, "train_eval_accuracy"),
        "post_val_accuracy": final(post, "val_accuracy"),
        "post_train_minus_val": final(post, "train_eval_accuracy") - final(post, "val_accuracy"),
        "post_abs_val_minus_test": abs(final(post, "val_accuracy") - base),
        "post_gap_beyond_disagreement": (final(post, "train_eval_accuracy") - final(post, "val_accuracy")
                                         - abs(final(post, "val_accuracy") - base)),
        "post_test_accuracy": base,
        "post_val_sharing_recording": post.info["val_sharing_recording"],
        "windows_train_minus_val": final(leak, "train_eval_accuracy") - final(leak, "val_accuracy"),
        "windows_val_minus_test": final(leak, "val_accuracy") - final(leak, "test_accuracy"),
        "windows_val_sharing_frame": leak.info["val_sharing_frame"],
    }
    for name in [*regularisers(), *fixes()]:
        if name in h:
            out[f"{slug_claim(name)}_test_change"] = final(h[name], "test_accuracy") - base
    grid = [n for n in regularisers() if n in h]
    if len(grid) == len(regularisers()):
        changes = [final(h[n], "test_accuracy") - base for n in grid]
        out["regulariser_largest_test_gain"] = max(changes)
        out["regulariser_largest_abs_change"] = max(abs(c) for c in changes)
        if MOST in h:
            out["more_recordings_minus_best_regulariser"] = final(h[MOST], "test_accuracy") - base - max(changes)
    added = [n for n in fixes() if n not in MORE_RECORDINGS]
    if all(n in h for n in added):
        gains = [final(h[n], "test_accuracy") - base for n in added]
        out.update({f"{slug_claim(n)}_train_accuracy": final(h[n], "train_eval_accuracy") for n in added})
        out["no_new_recording_largest_test_gain"] = max(gains)
        if MOST in h:
            out["more_recordings_minus_best_no_new_recording"] = final(h[MOST], "test_accuracy") - base - max(gains)
    if all(n in h for n in longer()):
        base_longer = final(h[POST_LONGER], "test_accuracy")
        out["post_longer_test_change"] = base_longer - base
        for name in list(longer())[1:]:
            out[f"{slug_claim(name)}_test_change"] = final(h[name], "test_accuracy") - base_longer
            out[f"{slug_claim(name)}_train_accuracy"] = final(h[name], "train_eval_accuracy")
        out["post_longer_train_accuracy"] = final(h[POST_LONGER], "train_eval_accuracy")
        tried = [final(h[f"{n}, {LONGER_EPOCHS} epochs"], "test_accuracy") - base_longer for n in REGULARISERS_LONGER]
        out["regulariser_longer_largest_test_gain"] = max(tried)
        out["recordings_longer_minus_best_regulariser"] = (final(h[RECORDINGS_LONGER], "test_accuracy")
                                                           - base_longer - max(tried))
        if MOST in h:  # 24 recordings gain more over the post at 60 epochs than at 30
            out["recordings_longer_minus_shorter_gain"] = (final(h[RECORDINGS_LONGER], "test_accuracy") - base_longer
                                                           - (final(h[MOST], "test_accuracy") - base))
        out["best_test_accuracy"] = final(h[BEST], "test_accuracy")
        out["best_train_minus_val"] = final(h[BEST], "train_eval_accuracy") - final(h[BEST], "val_accuracy")
        out["best_minus_recordings_alone"] = final(h[BEST], "test_accuracy") - final(h[RECORDINGS_LONGER],
                                                                                     "test_accuracy")
        out["best_minus_augmentation_alone"] = final(h[BEST], "test_accuracy") - final(h[AUGMENTED_LONGER],
                                                                                       "test_accuracy")
    pool = candidates()
    if all(n in h for n in pool):
        chosen_val = final(h[BEST], "val_accuracy")
        six = [n for n, c in pool.items() if c.recordings == 6]
        out["chosen_val_accuracy"] = chosen_val
        out["chosen_val_minus_test"] = chosen_val - final(h[BEST], "test_accuracy")
        out["chosen_val_margin_over_six_recordings"] = chosen_val - max(final(h[n], "val_accuracy") for n in six)
        out["augmentation_60_epochs_val_minus_test"] = (final(h[AUGMENTED_LONGER], "val_accuracy")
                                                        - final(h[AUGMENTED_LONGER], "test_accuracy"))
    if all(n in h for n in folds()):  # the 6-recording pool's two leaders, cross-validated on this seed's data
        scores = cross_validation(h)
        chosen = max(scores, key=lambda name: scores[name][0])
        out["cross_validated_val_minus_test"] = scores[chosen][0] - scores[chosen][1]
    if RETRAINED in h:
        out["retrained_test_accuracy"] = final(h[RETRAINED], "test_accuracy")
        out["retrained_train_accuracy"] = final(h[RETRAINED], "train_eval_accuracy")
        if AUGMENTED_LONGER in h:  # the configuration chosen from the 6-recording pool, trained on train only
            out["chosen_val_minus_retrained_test"] = (final(h[AUGMENTED_LONGER], "val_accuracy")
                                                      - final(h[RETRAINED], "test_accuracy"))
            out["retrained_minus_chosen_test"] = (final(h[RETRAINED], "test_accuracy")
                                                  - final(h[AUGMENTED_LONGER], "test_accuracy"))
    if "LSTM 1 unit" in h:
        out["lstm_1_unit_train_accuracy"] = final(h["LSTM 1 unit"], "train_eval_accuracy")
    if MOST in h:
        out["most_recordings_test_accuracy"] = final(h[MOST], "test_accuracy")
        out["most_recordings_train_minus_val"] = (final(h[MOST], "train_eval_accuracy")
                                                  - final(h[MOST], "val_accuracy"))
        out["most_recordings_train_accuracy"] = final(h[MOST], "train_eval_accuracy")
        out["most_recordings_gap_narrowing"] = out["post_train_minus_val"] - out["most_recordings_train_minus_val"]
    return out


def cross_validation(runs: dict[str, History]) -> dict[str, tuple[float, float]]:
    """One seed's grouped 3-fold cross-validation: {candidate: (mean validation over its folds, mean new-recording
    test of the same fold models)}, each fold's number the mean of its last LAST epochs."""
    return {name: (float(np.mean([final(runs[f"{name}, fold {k}"], "val_accuracy") for k in range(3)])),
                   float(np.mean([final(runs[f"{name}, fold {k}"], "test_accuracy") for k in range(3)])))
            for name in CROSS_VALIDATED}


def choose_on_validation(reference_runs: list[dict[str, History]], names: list[str]) -> list[tuple[str, float]]:
    """``names`` ranked by validation accuracy (last LAST epochs), mean over the seeds, highest first: the choice
    made without looking at the new-recording test set."""
    means = {n: float(np.mean([final(r[n], "val_accuracy") for r in reference_runs])) for n in names}
    return sorted(means.items(), key=lambda item: -item[1])


def recording_bootstrap(history: History, level: float = 0.9, seed: int = 0) -> tuple[float, float]:
    """Interval of the last epoch's new-recording test accuracy, resampling whole test recordings
    (windows of one recording are near-copies, so they are not independent draws)."""
    recording, correct = history.arrays["test_recording"], history.arrays["test_predicted"] == history.arrays[
        "test_label"]
    ids = np.unique(recording)
    hits = np.array([correct[recording == r].sum() for r in ids])
    sizes = np.array([(recording == r).sum() for r in ids])
    draws = np.random.default_rng(seed).integers(0, len(ids), (BOOTSTRAP, len(ids)))
    accuracy = hits[draws].sum(axis=1) / sizes[draws].sum(axis=1)
    return float(np.quantile(accuracy, (1 - level) / 2)), float(np.quantile(accuracy, (1 + level) / 2))
