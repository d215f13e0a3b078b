"""Issue 35, items 6 and 7: no false alarms on common healthy runs, and every printed word true.

Each test is one shape a practitioner's log has; the thresholds they meet are the doctor's own principles
(binomial noise, the log's jitter, the bound in helpers.stats), not numbers fitted to these curves.
"""

import json
import math

import numpy as np

from helpers.doctor import codes, diagnose_history, main, report
from helpers.stats import accuracy_floor

E = np.arange(1, 21)


def _finding(findings, code):
    return next(f for f in findings if f.code == code)


def test_class_weight_log_no_bound_error_and_no_shift_with_weighted():
    # b = 2 % positives, class_weight {0: b/(1-b), 1: 1}: the weighted training loss is tiny, validation is
    # unweighted (ln 2-ish), the accuracy is ordinary (DESIGN.md's planning run: 0.025, 0.58, 0.83).
    h = {"loss": 0.025 + 0.02 * np.exp(-E / 4), "accuracy": 0.83 - 0.02 * np.exp(-E / 4),
         "val_loss": 0.58 + 0.05 * np.exp(-E / 4), "val_accuracy": 0.83 - 0.02 * np.exp(-E / 5)}
    plain = codes(diagnose_history(h), at_least="warn")
    assert "METRIC_INCONSISTENT" in plain  # unweighted, the pair is impossible ...
    weighted = diagnose_history(h, weighted=True)
    assert not codes(weighted, at_least="warn") & {"METRIC_INCONSISTENT", "POPULATION_SHIFT", "STALE_NORM_STATS"}
    # ... and with the mean weight the bound is checked in its weighted form (helpers.stats.accuracy_floor).
    mean_w = 0.98 * 0.02 / 0.98 + 0.02 * 1.0
    assert accuracy_floor(0.025, mean_w) < 0.83
    assert "METRIC_INCONSISTENT" not in codes(diagnose_history(h, mean_weight=mean_w))
    below = dict(h, accuracy=np.full(20, 0.01))  # below even the weighted floor
    found = _finding(diagnose_history(below, mean_weight=mean_w, loss="binary_crossentropy"), "METRIC_INCONSISTENT")
    assert "mean weight" in found.message and found.evidence["mean_weight"] == mean_w


def test_metric_message_uses_the_bound_as_stated_once():
    h = {"loss": [0.2, 0.2], "accuracy": [0.5, 0.5], "val_loss": [0.2, 0.2], "val_accuracy": [0.9, 0.9]}
    msg = _finding(diagnose_history(h, loss="categorical_crossentropy"), "METRIC_INCONSISTENT").message
    assert "label-smoothed" not in msg and "smoothed" not in msg  # label smoothing keeps the bound
    assert "same forward pass" in msg and "--weighted" in msg


def test_focal_or_multilabel_log_under_the_default_loss_is_a_warning_that_names_its_assumption():
    h = {"loss": 0.05 * np.exp(-E / 8), "accuracy": 0.8 + 0.15 * (1 - np.exp(-E / 5)),
         "val_loss": 0.06 * np.exp(-E / 10), "val_accuracy": 0.78 + 0.1 * (1 - np.exp(-E / 5))}
    found = [f for f in diagnose_history(h) if f.code == "METRIC_INCONSISTENT"]
    assert found and all(f.severity == "warn" and "assuming the loss is a cross-entropy" in f.message for f in found)
    assert not codes(diagnose_history(h, loss="other"), at_least="warn")


def test_hf_fine_tune_best_at_the_first_evaluation_is_not_a_population_shift(tmp_path):
    train = [0.42, 0.22, 0.12, 0.06, 0.03]
    val = [0.31, 0.33, 0.38, 0.44, 0.50]
    log = []
    for i, (t, v) in enumerate(zip(train, val, strict=True), start=1):
        log += [{"loss": t, "epoch": i - 0.5, "step": 500 * i - 250},
                {"eval_loss": v, "epoch": float(i), "step": 500 * i}]
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"log_history": log}))
    found = diagnose_history(str(path))
    assert "POPULATION_SHIFT" not in codes(found)
    over = _finding(found, "OVERFITTING")
    # HF rows are evaluations: said as such, with the step, never as "epoch N".
    assert "evaluation 1 (step 500)" in over.message and "epoch" not in over.message
    assert "epoch" not in _finding(found, "GAP").message


def test_val_size_on_a_large_validation_set_is_not_val_noisy():
    rng = np.random.default_rng(0)
    acc = 0.6 + 0.3 * (1 - np.exp(-E / 5)) + 0.01 * rng.normal(size=20)
    vacc = 0.58 + 0.28 * (1 - np.exp(-E / 5)) + 0.01 * rng.normal(size=20)
    h = {"loss": 1.2 * np.exp(-E / 5) + 0.3, "accuracy": acc, "val_loss": 1.2 * np.exp(-E / 5) + 0.35,
         "val_accuracy": vacc}
    # 50 000 rows: binomial SE 0.0016; the weights moving between epochs jitter both curves alike.
    assert "VAL_NOISY" not in codes(diagnose_history(h, val_size=50_000), at_least="info")
    wild = dict(h, val_accuracy=vacc + 0.08 * np.where(E % 2, 1, -1))
    assert "VAL_NOISY" in codes(diagnose_history(wild, val_size=50_000), at_least="warn")


def test_a_guessed_class_count_is_said_and_a_given_one_wins():
    h = {"loss": 1.6 * np.exp(-E / 30) + 0.2 * np.exp(-E / 3), "accuracy": 0.3 + 0.2 * (1 - np.exp(-E / 6)),
         "val_loss": 1.386 - 0.3 * (1 - np.exp(-E / 5)), "val_accuracy": 0.3 + 0.15 * (1 - np.exp(-E / 6))}
    under = _finding(diagnose_history(h), "UNDERFITTING")
    assert "guessed: 4 classes" in under.message and "--classes" in under.message
    assert "UNDERFITTING" not in codes(diagnose_history(h, n_classes=10))  # 0.9 is 39 % of ln 10


def test_stale_norm_stats_says_it_assumes_batchnorm_and_can_be_silenced():
    h = {"loss": [0.9, 0.6, 0.5, 0.45, 0.4, 0.37, 0.35, 0.33, 0.31, 0.3],
         "val_loss": [8.0, 5.0, 1.2, 0.6, 0.5, 0.48, 0.47, 0.46, 0.46, 0.46]}
    stale = _finding(diagnose_history(h), "STALE_NORM_STATS")
    assert "if the network has BatchNorm" in stale.message and stale.evidence["assumes_batchnorm"]
    assert "STALE_NORM_STATS" not in codes(diagnose_history(h, batchnorm=False))
    assert "if the network" not in _finding(diagnose_history(h, batchnorm=True), "STALE_NORM_STATS").message


def test_case_04_tail_split_with_a_training_loss_jump_is_not_stale_batchnorm():
    # Case 04's tail split (no BatchNorm): validation rises from epoch 1; if training loss jumps up (Adam on
    # another thread count), the val/train ratio falls 4x although validation never fell.
    h = {"loss": [0.17, 0.06, 0.045, 0.04, 0.3, 0.28, 0.27, 0.26, 0.25, 0.24, 0.23, 0.22],
         "val_loss": [0.25, 0.29, 0.33, 0.36, 0.38, 0.39, 0.40, 0.41, 0.42, 0.43, 0.44, 0.45]}
    assert "STALE_NORM_STATS" not in codes(diagnose_history(h, loss="binary_crossentropy"))


def test_lowest_val_loss_is_the_logged_value_at_a_logged_epoch():
    rng = np.random.default_rng(3)
    val = 0.5 + 0.02 * (E - 8) ** 2 / 8 + 0.03 * rng.normal(size=20)
    h = {"loss": 2 * np.exp(-E / 4), "val_loss": val}
    over = _finding(diagnose_history(h), "OVERFITTING")
    b = int(over.evidence["best_epoch"])
    assert over.evidence["best_val_loss"] == val[b - 1]
    assert f"({val[b - 1]:.4g}, as logged)" in over.message


def test_widening_and_narrowing_when_validation_is_ahead():
    acc = 0.6 + 0.3 * (1 - np.exp(-E / 5))
    vacc = 0.7 + 0.21 * (1 - np.exp(-E / 5))  # ahead by 0.10, then by 0.01: the lead narrows
    h = {"loss": 1.2 * np.exp(-E / 6) + 0.3, "accuracy": acc, "val_loss": 0.9 * np.exp(-E / 6) + 0.28,
         "val_accuracy": vacc}
    gap = _finding(diagnose_history(h), "GAP")
    assert "widening" not in gap.message and "validation lead narrowing" in gap.message
    assert gap.evidence["val_ahead"]


def test_a_19x_loss_gap_is_not_called_small():
    val = np.r_[0.6, 0.4, 0.3, np.full(17, 0.276)] + 0.002 * np.sin(E)
    h = {"loss": 0.3 * np.exp(-E / 3) + 0.0147, "val_loss": val}
    gap = _finding(diagnose_history(h), "GAP")
    assert "healthy" not in gap.message and not gap.evidence["small"]


def test_the_gap_line_does_not_contradict_itself():
    h = {"loss": 1.6 * np.exp(-E / 30) + 0.2 * np.exp(-E / 3), "accuracy": 0.3 + 0.2 * (1 - np.exp(-E / 6)),
         "val_loss": 1.386 - 0.3 * (1 - np.exp(-E / 5)), "val_accuracy": 0.3 + 0.15 * (1 - np.exp(-E / 6))}
    gap = _finding(diagnose_history(h), "GAP")
    if "widening" in gap.message:
        assert not gap.message.endswith(": underfitting; best epoch 20.")
        assert "while the gap widens" in gap.message
    # A rise needs epochs after the best: a curve still falling at its end is not "rising since" its last epoch.
    falling = {"loss": 0.05 * np.exp(-E / 8), "val_loss": 0.06 * np.exp(-E / 10)}
    assert "rising" not in _finding(diagnose_history(falling, loss="other"), "GAP").message


def test_the_fix_is_printed_by_default_and_explain_adds_the_evidence(tmp_path, capsys):
    from helpers.runs import History

    h = {"loss": 2 * np.exp(-E / 4), "val_loss": 0.5 + 0.02 * (E - 8) ** 2 / 8}
    assert "    fix: Keep the weights of the best epoch" in report(diagnose_history(h), fix=True)
    path = tmp_path / "log.csv"
    History(metrics={k: list(map(float, v)) for k, v in h.items()}).to_csv(path)
    main([str(path)])
    brief = capsys.readouterr().out
    assert "fix:" in brief and "best_epoch =" not in brief
    main([str(path), "--explain"])
    assert "best_epoch =" in capsys.readouterr().out


def test_cli_weighted_and_no_batchnorm_flags(tmp_path, capsys):
    from helpers.runs import History

    h = {"loss": [0.9, 0.6, 0.5, 0.45, 0.4, 0.37, 0.35, 0.33, 0.31, 0.3],
         "val_loss": [8.0, 5.0, 1.2, 0.6, 0.5, 0.48, 0.47, 0.46, 0.46, 0.46]}
    path = tmp_path / "log.csv"
    History(metrics=h).to_csv(path)
    main([str(path)])
    assert "STALE_NORM_STATS" in capsys.readouterr().out
    main([str(path), "--no-batchnorm"])
    assert "STALE_NORM_STATS" not in capsys.readouterr().out
    main([str(path), "--weighted"])
    assert "STALE_NORM_STATS" not in capsys.readouterr().out
    assert math.isfinite(accuracy_floor(0.1, 0.5))


def test_a_best_epoch_that_is_not_the_single_lowest_value_says_both_as_logged():
    from helpers.scenarios import clinic

    over = _finding(clinic.examine("M"), "OVERFITTING")  # patient M: epoch 13 by the running median, 8 the dip
    log = clinic.Log(clinic.BY_ID["M"])
    val = dict(zip(log.epochs.tolist(), log.columns["val_loss"].tolist(), strict=True))
    assert over.evidence["lowest_epoch"] == 8 and over.evidence["lowest_val_loss"] == min(val.values())
    assert f"around epoch 13 ({val[13]:.4g} logged there" in over.message
    assert f"{val[8]:.4g} at epoch 8, is a dip" in over.message and "lowest at epoch 13" not in over.message


def test_a_cross_entropy_is_judged_against_ln_k_never_against_its_first_logged_epoch():
    # A fine-tune whose first logged training loss is already an epoch average: it falls only 30 % and
    # flattens, healthy (the validation loss follows it). Judged against its first value, it read as underfitting.
    train = 0.42 + 0.18 * np.exp(-(E - 1) / 2) + 0.002 * np.where(E % 2, 1, -1)  # jitter of minibatch order
    h = {"loss": train, "accuracy": 0.85 + 0.05 * (1 - np.exp(-(E - 1) / 3)),
         "val_loss": train + 0.03, "val_accuracy": 0.84 + 0.05 * (1 - np.exp(-(E - 1) / 3))}
    assert 0.25 < 1 - train[-1] / train[0] < 0.35
    for kwargs in ({}, {"loss": "categorical_crossentropy"}, {"loss": "binary_crossentropy"},
                   {"loss": "sparse_categorical_crossentropy", "n_classes": 10}):
        assert "UNDERFITTING" not in codes(diagnose_history(h, **kwargs), at_least="info"), kwargs
    # The level that means "learnt nothing" still names it: 10 classes, loss ending at 87 % of ln 10.
    stuck = dict(h, loss=2.0 + 0.3 * np.exp(-(E - 1) / 3), val_loss=2.05 + 0.3 * np.exp(-(E - 1) / 3))
    found = _finding(diagnose_history(stuck, loss="categorical_crossentropy", n_classes=10), "UNDERFITTING")
    assert "ln 10" in found.message
    # A regression loss has no untrained level: its own first epoch stays the yardstick.
    assert "fell only" in _finding(diagnose_history(h, loss="mse"), "UNDERFITTING").message
    # Weights that never move are caught whatever the loss.
    frozen = dict(h, loss=np.full(20, 0.3512), val_loss=np.full(20, 0.3733))
    assert "identical" in _finding(diagnose_history(frozen), "UNDERFITTING").message
