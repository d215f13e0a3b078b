"""Doctor v2's history checks: the GAP line, thresholds from noise, and the cases real logs showed."""

import math

import numpy as np
import pytest

from helpers.doctor import LiveDoctor, codes, diagnose_history, is_alarming, noise_sigma
from helpers.doctor.checks import CHECKS, VERDICT_ORDER, ordered_codes

E = np.arange(1, 61)


def plateau_overfit():
    """The issue's first miss: train 0.90 vs val 0.76, val loss flat for 40 epochs while train loss halves."""
    rng = np.random.default_rng(1)
    train_loss = np.where(E <= 20, 1.2 * np.exp(-E / 10) + 0.3, 0.3 + 0.1624 * np.exp(-(E - 20) / 25))
    train_loss = train_loss * np.where(E > 20, np.linspace(1, 0.55, 60), 1.0)
    val_loss = np.where(E <= 20, 1.2 * np.exp(-E / 10) + 0.45, 0.6124) + rng.normal(0, 0.004, 60)
    train_acc = np.minimum(0.5 + 0.4 * (1 - np.exp(-E / 15)), 0.90)
    val_acc = np.where(E <= 20, 0.5 + 0.26 * (1 - np.exp(-E / 6)), 0.76) + rng.normal(0, 0.003, 60)
    train_acc[-1], val_acc[-1] = 0.90, 0.76
    return {"loss": train_loss, "accuracy": train_acc, "val_loss": val_loss, "val_accuracy": val_acc}


def test_every_log_with_both_curves_gets_one_gap_line_and_it_never_alarms():
    found = diagnose_history(plateau_overfit())
    gap = [f for f in found if f.code == "GAP"]
    assert len(gap) == 1 and gap[0].severity == "summary" and found[-1] is gap[0]
    assert "GAP" not in codes(found) and "GAP" in codes(found, at_least="summary")
    calm = {"loss": [0.5, 0.4, 0.35], "val_loss": [0.52, 0.43, 0.38]}
    assert not is_alarming(diagnose_history(calm)) and any(f.code == "GAP" for f in diagnose_history(calm))
    assert [f.code for f in diagnose_history({"loss": [1.0, 0.5], "accuracy": [0.5, 0.6]}, loss="other")] == []


def test_a_plateau_with_a_widening_gap_is_overfitting_and_the_gap_line_says_so():
    found = diagnose_history(plateau_overfit())
    assert "OVERFITTING" in codes(found)
    over = next(f for f in found if f.code == "OVERFITTING")
    assert over.evidence["kind"] == "plateau"
    line = next(f for f in found if f.code == "GAP").message
    assert line.startswith("accuracy: train 0.90 vs val 0.76 at epoch 60")
    assert "widening since epoch" in line and "val loss flat since epoch" in line
    assert line.endswith(f"overfitting; best epoch {over.evidence['best_epoch']:.0f}.")


def test_stale_batchnorm_at_9_97_times_then_a_70_fold_collapse():
    train = np.array([0.50, 0.40, 0.35, 0.32, 0.30, 0.29, 0.28, 0.27])
    val = np.array([4.985, 0.2137, 0.45, 0.40, 0.37, 0.36, 0.35, 0.35])  # 9.97× train, then 23× lower
    found = codes(diagnose_history({"loss": train, "val_loss": val}))
    assert "STALE_NORM_STATS" in found and "POPULATION_SHIFT" not in found
    assert val[0] / train[0] == pytest.approx(9.97)


def test_a_frozen_val_accuracy_is_a_constant_prediction_even_without_a_class_count():
    train_acc = np.linspace(0.55, 0.95, 20)
    h = {"loss": np.linspace(0.70, 0.15, 20), "accuracy": train_acc,
         "val_loss": np.linspace(0.69, 0.80, 20), "val_accuracy": np.full(20, 0.31249999)}
    found = [f for f in diagnose_history(h, loss="other") if f.code == "VAL_AT_CHANCE"]
    assert found and found[0].evidence["chance_from"] == "frozen value"
    assert found[0].evidence["frozen_epochs"] == 20
    h["val_accuracy"] = np.full(20, 0.0)  # 0 % is no class's share: a broken metric, not a constant prediction
    assert "VAL_AT_CHANCE" not in codes(diagnose_history(h, loss="other"))


def test_wild_val_swings_are_val_noisy_and_lead_the_verdict():
    n = 30
    e = np.arange(n)
    h = {"loss": 1.5 * np.exp(-e / 8) + 0.1, "accuracy": 0.5 + 0.45 * (1 - np.exp(-e / 8)),
         "val_loss": 1.5 * np.exp(-e / 8) + 0.4 + 0.3 * (e % 2), "val_accuracy": np.where(e % 2, 0.45, 0.85)}
    found = diagnose_history(h)
    assert "VAL_NOISY" in codes(found, at_least="warn")
    assert ordered_codes(found)[0] == "VAL_NOISY"
    assert next(f for f in found if f.code == "GAP").evidence["verdict"] == "noisy validation"


def test_noise_sigma_measures_white_noise_around_a_trend():
    rng = np.random.default_rng(0)
    sigma = 0.02
    curve = np.linspace(1.0, 0.2, 4000) + rng.normal(0, sigma, 4000)
    assert noise_sigma(curve, tail=False) == pytest.approx(sigma, rel=0.05)
    assert noise_sigma(np.linspace(1, 0, 50)) == pytest.approx(0.0, abs=1e-12)  # a trend is not noise


def test_percent_accuracies_and_multi_label_bound():
    h = {"loss": [1.0, 0.6, 0.4], "accuracy": [60.0, 75.0, 85.0], "val_loss": [1.0, 0.7, 0.6],
         "val_accuracy": [58.0, 70.0, 76.0]}
    gap = next(f for f in diagnose_history(h) if f.code == "GAP")
    assert gap.evidence["train_last"] == pytest.approx(0.85)
    # Multi-label BCE over 9 labels: subset accuracy 0.61 at loss 0.164 is consistent (1 − 9·L/ln 2 < 0) ...
    multi = {"loss": [0.2, 0.164], "accuracy": [0.5, 0.61], "val_loss": [0.2, 0.17], "val_accuracy": [0.5, 0.6]}
    assert "METRIC_INCONSISTENT" not in codes(diagnose_history(multi, loss="binary_crossentropy", n_classes=9))
    # ... and would be impossible for one binary label.
    assert "METRIC_INCONSISTENT" in codes(diagnose_history(multi, loss="binary_crossentropy"))


def test_suppression_rules_between_findings():
    e = np.arange(1, 16)
    flat = {"loss": np.full(15, 2.3) - 0.001 * e, "accuracy": 0.1 + 0.01 * np.cos(e),
            "val_loss": np.full(15, 2.3) + 0.002 * e, "val_accuracy": 0.1 + 0.01 * np.sin(e)}
    found = codes(diagnose_history(flat, n_classes=10, val_size=1000))
    assert "NOTHING_LEARNT" in found and "OVERFITTING" not in found  # nothing learnt says more
    broken = {"loss": np.linspace(0.3, 0.1, 15), "accuracy": np.linspace(0.0, 0.2, 15),
              "val_loss": np.linspace(0.3, 0.2, 15), "val_accuracy": np.full(15, 0.1)}
    found = codes(diagnose_history(broken, n_classes=10))
    assert "METRIC_INCONSISTENT" in found and "VAL_AT_CHANCE" not in found  # not an accuracy: no chance check
    assert CHECKS[0].name == "DIVERGED" and CHECKS[-1].name == "GAP"
    assert set(VERDICT_ORDER) <= {c.name for c in CHECKS}


def test_divergence_drops_the_nan_tail_for_the_other_checks():
    h = {"loss": [2.0, 1.5, 1.2, 1.0, math.nan, math.nan], "val_loss": [2.1, 1.6, 1.3, 1.1, math.nan, math.inf]}
    found = diagnose_history(h, loss="other")
    assert codes(found) == {"DIVERGED"}
    assert next(f for f in found if f.code == "DIVERGED").evidence["epoch"] == 5
    assert "train 1" in next(f for f in found if f.code == "GAP").message  # the last finite epoch


def test_live_doctor_never_prints_the_gap_line():
    printed = []
    live = LiveDoctor(printer=printed.append)
    for i in range(5):
        live.update({"loss": 1.0 / (i + 1), "val_loss": 1.1 / (i + 1)})
    assert printed == []


def test_a_small_val_set_that_repeats_values_everywhere_is_not_frozen():
    # 25 validation rows: accuracy moves in steps of 0.04 and this log repeats a value 2 epochs in 3, so a
    # run of 7 equal values is its habit ((2/3)^6 ≈ 0.09 > 1/32), not a constant prediction.
    val = np.repeat([0.72, 0.76, 0.72, 0.80, 0.76, 0.80, 0.84, 0.80, 0.84, 0.80, 0.84, 0.80], 3).astype(float)
    val[12:19] = 0.76
    n = len(val)
    h = {"loss": np.linspace(1.0, 0.2, n), "accuracy": np.linspace(0.5, 0.95, n),
         "val_loss": np.linspace(1.0, 0.7, n), "val_accuracy": val}
    assert "VAL_AT_CHANCE" not in codes(diagnose_history(h, loss="other"))
    h["val_accuracy"] = np.full(n, 0.76)  # the same value every epoch while training climbs: frozen
    assert "VAL_AT_CHANCE" in codes(diagnose_history(h, loss="other"))
