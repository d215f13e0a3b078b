"""The doctor: each probe on constructed inputs (with boundaries), real runs, the forum log, the CLI."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import doctor
from helpers.doctor import codes, diagnose_history

ROOT = Path(__file__).resolve().parents[1]
FORUM_LOG = ROOT / "data" / "forum" / "003_a8ebacd39794dcdb_log.csv"
LN2 = math.log(2)


def healthy(n=20):
    e = np.arange(1, n + 1)
    loss = 0.3 + 2.0 * np.exp(-e / 3)
    acc = 0.9 - 0.6 * np.exp(-e / 3)
    return {"loss": loss, "accuracy": acc, "val_loss": loss * 1.08, "val_accuracy": acc - 0.02}


# --- metric consistency ---------------------------------------------------------

def test_accuracy_exactly_at_the_bound_is_consistent_and_just_below_is_not():
    loss = np.array([0.2, 0.2])
    at_bound = {"loss": loss, "accuracy": 1 - loss / LN2, "val_loss": loss, "val_accuracy": 1 - loss / LN2}
    assert "METRIC_INCONSISTENT" not in codes(diagnose_history(at_bound))
    below = dict(at_bound, accuracy=1 - loss / LN2 - 0.01)
    found = [f for f in diagnose_history(below, loss="categorical_crossentropy") if f.code == "METRIC_INCONSISTENT"]
    assert len(found) == 1 and found[0].severity == "error" and found[0].evidence["split"] == "training"
    # The loss not given: the same finding, as a warning that names its assumption.
    assumed = [f for f in diagnose_history(below) if f.code == "METRIC_INCONSISTENT"]
    assert assumed[0].severity == "warn" and "assuming the loss is a cross-entropy" in assumed[0].message
    assert found[0].evidence["accuracy_floor"] == pytest.approx(1 - 0.2 / LN2)


def test_bound_is_skipped_for_losses_that_are_not_cross_entropy():
    h = {"loss": [0.1, 0.1], "accuracy": [0.0, 0.0], "val_loss": [0.1, 0.1], "val_accuracy": [0.0, 0.0]}
    assert "METRIC_INCONSISTENT" not in codes(diagnose_history(h, loss="other"))
    assert "METRIC_INCONSISTENT" not in codes(diagnose_history(h, loss="mse"))  # mse: a loss with a floor at 0
    with pytest.raises(ValueError, match="loss='hinge'"):
        diagnose_history(h, loss="hinge")


# --- curve shapes -------------------------------------------------------------------

def test_healthy_curves_raise_nothing():
    assert not doctor.is_alarming(diagnose_history(healthy(), n_classes=10, val_size=2000))


def test_constant_curves_raise_nothing():
    flat = {"loss": [0.5] * 6, "accuracy": [0.8] * 6, "val_loss": [0.5] * 6, "val_accuracy": [0.8] * 6}
    assert not doctor.is_alarming(diagnose_history(flat, n_classes=5, val_size=1000))


def test_one_epoch_checks_the_bound_and_the_gap_but_no_trend():
    one = {"loss": [0.1229], "accuracy": [0.0207], "val_loss": [4.3194], "val_accuracy": [0.0168]}
    assert codes(diagnose_history(one, loss="binary_crossentropy")) == {"METRIC_INCONSISTENT", "POPULATION_SHIFT"}
    calm = {"loss": [0.5], "accuracy": [0.8], "val_loss": [0.55], "val_accuracy": [0.78]}
    found = diagnose_history(calm, n_classes=2, val_size=1000)
    assert codes(found) == set() and [f.code for f in found] == ["GAP"]  # the GAP line only (a summary)


def test_stale_norm_stats_needs_the_collapse():
    e = np.arange(1, 11)
    train = 2.0 * np.exp(-e / 3) + 0.2
    val = np.where(e <= 3, 30.0, train * 1.2)  # 30 at epochs 1-3, then collapses at epoch 4
    h = {"loss": train, "val_loss": val}
    found = diagnose_history(h)
    assert "STALE_NORM_STATS" in codes(found)
    assert "POPULATION_SHIFT" not in codes(found)  # a collapse is not a shift
    f = next(f for f in found if f.code == "STALE_NORM_STATS")
    assert f.evidence["collapse_factor"] >= 10
    never = {"loss": train, "val_loss": np.full(10, 30.0)}
    assert "STALE_NORM_STATS" not in codes(diagnose_history(never))
    assert "POPULATION_SHIFT" in codes(diagnose_history(never))
    slow = {"loss": train, "val_loss": np.geomspace(30, 2.9, 10)}  # 10× fall, but over 9 epochs
    assert "STALE_NORM_STATS" not in codes(diagnose_history(slow))


def test_population_shift_from_epoch_one_and_from_a_val_that_never_follows():
    e = np.arange(1, 16)
    train = 0.1 * np.exp(-e / 10) + 0.03
    assert "POPULATION_SHIFT" in codes(diagnose_history({"loss": train, "val_loss": train * 20}))
    scratch = 2.3 * np.exp(-e / 2) + 0.05
    never_follows = {"loss": scratch, "val_loss": np.full(15, 2.0)}
    assert "POPULATION_SHIFT" in codes(diagnose_history(never_follows))
    follows_then_overfits = {"loss": scratch, "val_loss": np.maximum(scratch * 1.05, 0.4 + 0.05 * e)}
    found = codes(diagnose_history(follows_then_overfits))
    assert "POPULATION_SHIFT" not in found and "OVERFITTING" in found


def test_overfitting_reports_the_best_epoch_and_needs_a_real_rise():
    e = np.arange(1, 21)
    train = 2 * np.exp(-e / 4)
    val = 0.5 + 0.02 * (e - 8) ** 2 / 8
    f = next(f for f in diagnose_history({"loss": train, "val_loss": val}) if f.code == "OVERFITTING")
    assert f.evidence["best_epoch"] == 8
    # A rise inside the curve's own jitter, training converged too: not overfitting (noise decides, not 10 %).
    jitter = 0.01 * np.random.default_rng(0).normal(size=20)
    converged = {"loss": 0.2 + jitter[::-1] / 5, "val_loss": 0.5 + jitter}
    assert "OVERFITTING" not in codes(diagnose_history(converged))  # training no longer falls either
    minimum_last = {"loss": train, "val_loss": 1 / e}
    assert "OVERFITTING" not in codes(diagnose_history(minimum_last))


def test_val_at_chance_while_train_climbs():
    e = np.arange(1, 16)
    h = {"loss": 2 * np.exp(-e / 4), "accuracy": 1 - 0.9 * np.exp(-e / 4),
         "val_loss": np.full(15, 2.3), "val_accuracy": 0.1 + 0.01 * np.sin(e)}
    assert "VAL_AT_CHANCE" in codes(diagnose_history(h, n_classes=10, val_size=1000))
    inferred = [f for f in diagnose_history(h) if f.code == "VAL_AT_CHANCE"]  # val loss 2.3 ≈ ln 10 names K
    assert inferred and inferred[0].evidence["chance"] == pytest.approx(0.1)
    assert "ln 10" in inferred[0].evidence["chance_from"]
    unknown = dict(h, val_loss=np.full(15, 1.9))  # no class count and no ln K: chance is unknown
    assert "VAL_AT_CHANCE" not in codes(diagnose_history(unknown))
    above = dict(h, val_accuracy=0.3 + 0.01 * np.sin(e))
    assert "VAL_AT_CHANCE" not in codes(diagnose_history(above, n_classes=10, val_size=1000))
    with pytest.raises(ValueError, match="n_classes=1"):
        diagnose_history(h, n_classes=1)


def test_nothing_learnt_when_train_and_val_both_sit_at_chance():
    e = np.arange(1, 16)
    flat = {"loss": np.full(15, 2.3), "accuracy": 0.1 + 0.01 * np.cos(e),
            "val_loss": np.full(15, 2.3), "val_accuracy": 0.1 + 0.01 * np.sin(e)}
    found = codes(diagnose_history(flat, n_classes=10, val_size=1000))
    assert "NOTHING_LEARNT" in found and "VAL_AT_CHANCE" not in found
    climbing = dict(flat, accuracy=np.linspace(0.1, 0.4, 15))  # memorising: VAL_AT_CHANCE's case, not this one
    assert "NOTHING_LEARNT" not in codes(diagnose_history(climbing, n_classes=10, val_size=1000))
    assert "NOTHING_LEARNT" not in codes(diagnose_history({k: v[:4] for k, v in flat.items()}, n_classes=10))
    learnt = dict(flat, val_accuracy=np.full(15, 0.5))
    assert "NOTHING_LEARNT" not in codes(diagnose_history(learnt, n_classes=10, val_size=1000))


def test_val_noise_against_the_binomial_error():
    e = np.arange(1, 21)
    base = healthy(20)
    jumpy = dict(base, val_accuracy=0.7 + 0.15 * (e % 2))
    found = [f for f in diagnose_history(jumpy, val_size=5000) if f.code == "VAL_NOISY"]
    assert found and found[0].severity == "warn"
    small = [f for f in diagnose_history(base, val_size=90) if f.code == "VAL_NOISY"]
    assert small and small[0].severity == "info" and small[0].evidence["binomial_se"] == pytest.approx(
        np.sqrt(np.mean(base["val_accuracy"][10:]) * (1 - np.mean(base["val_accuracy"][10:])) / 90), rel=1e-6)
    assert "VAL_NOISY" not in codes(diagnose_history(base, val_size=5000))


# --- real runs and the forum log -------------------------------------------------

@pytest.mark.slow
def test_notebook_00_runs_get_the_right_codes():
    from helpers.runs import run
    from helpers.scenarios import reading_curves as rc

    expected = {"healthy": set(), "underfitting": set(), "overfitting": {"OVERFITTING"},
                "population shift": {"POPULATION_SHIFT"}, "heavy dropout": set(), "noisy validation": set()}
    for name, config in rc.SHAPES.items():
        found = codes(diagnose_history(run(config), n_classes=10, val_size=config.n_val), at_least="warn")
        assert expected[name] <= found, (name, found)
        if not expected[name]:
            assert not found, (name, found)


def test_forum_log_is_flagged_inconsistent_and_shifted():
    found = diagnose_history(FORUM_LOG, loss="binary_crossentropy", val_size=30405)
    assert {"METRIC_INCONSISTENT", "POPULATION_SHIFT"} <= codes(found)
    metric = next(f for f in found if f.code == "METRIC_INCONSISTENT")
    assert metric.evidence["epochs_inconsistent"] == 7  # every printed line


def test_keras_history_dict_aliases_acc():
    h = {"loss": [0.1229, 0.1], "acc": [0.0207, 0.02], "val_loss": [0.2, 0.15], "val_acc": [0.9, 0.92]}
    assert "METRIC_INCONSISTENT" in codes(diagnose_history(h, loss="binary_crossentropy"))


def test_live_doctor_prints_a_finding_once_the_epoch_it_appears():
    printed = []
    live = doctor.LiveDoctor(loss="binary_crossentropy", printer=printed.append)
    live.update({"loss": 0.12, "accuracy": 0.02, "val_loss": 0.2, "val_accuracy": 0.9})
    assert printed == []  # one epoch: wait
    live.update({"loss": 0.11, "accuracy": 0.02, "val_loss": 0.2, "val_accuracy": 0.9})
    live.update({"loss": 0.10, "accuracy": 0.02, "val_loss": 0.2, "val_accuracy": 0.9})
    assert len(printed) == 1 and "epoch 2" in printed[0] and "METRIC_INCONSISTENT" in printed[0]


# --- model and data probes ----------------------------------------------------------

def test_probe_modes_torch_batchnorm_gap_and_model_left_untouched():
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    x = np.random.default_rng(0).normal(5.0, 3.0, (256, 4)).astype("float32")  # far from BN's init stats
    y = (x[:, 0] > 5).astype(int)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    found = doctor.probe_modes(model, x, y)
    assert codes(found) == {"MODE_GAP"}
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    plain = nn.Sequential(nn.Linear(4, 3))
    assert doctor.probe_modes(plain, x, y) == []


@pytest.mark.slow
def test_probe_modes_keras_batchnorm_gap_and_weights_restored():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16), keras.layers.BatchNormalization(),
                              keras.layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).normal(5.0, 3.0, (256, 4)).astype("float32")
    y = (x[:, 0] > 5).astype(int)
    before = [v.numpy().copy() for v in model.non_trainable_variables]
    assert codes(doctor.probe_modes(model, x, y)) == {"MODE_GAP"}
    assert all(np.array_equal(b, v.numpy()) for b, v in zip(before, model.non_trainable_variables, strict=True))


def test_probe_val_determinism():
    rng = np.random.default_rng(0)
    assert codes(doctor.probe_val_determinism(lambda: {"acc": rng.random()})) == {"VAL_NONDETERMINISTIC"}
    assert doctor.probe_val_determinism(lambda: 0.75) == []
    with pytest.raises(ValueError, match="repeats=1"):
        doctor.probe_val_determinism(lambda: 1.0, repeats=1)


def test_probe_split_images_tables_and_groups():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:32, 0:32]
    images = np.stack([np.sin(xx / (2 + i % 7) + i) * np.cos(yy / (3 + i % 5)) for i in range(60)])
    train, fresh = images[:40], images[40:]
    near_twins = train[:10] + rng.normal(0, 0.01, train[:10].shape)
    found = doctor.probe_split(train, np.concatenate([near_twins, fresh]))
    assert codes(found) == {"SPLIT_OVERLAP"}
    assert found[0].evidence["near_fraction"] == pytest.approx(10 / 30)
    assert found[0].evidence["exact_fraction"] == 0.0
    assert doctor.probe_split(train, fresh) == []
    table = rng.normal(size=(200, 5))
    rows = doctor.probe_split(table[:150], np.concatenate([table[:20] + 1e-6, table[150:]]))
    assert rows[0].evidence["near_fraction"] == pytest.approx(20 / 70)
    groups = doctor.probe_split(train_groups=[{1, 2, 3}, {2, 3, 4}], val_groups=[{4, 5, 6}, {7, 8, 9}])
    assert groups[0].evidence["group_fraction"] == 0.5
    with pytest.raises(ValueError, match="needs train and val"):
        doctor.probe_split()


def test_probe_labels():
    assert codes(doctor.probe_labels([0] * 500 + [1] * 500, [0] * 100 + [1] * 100)) == set()
    found = doctor.probe_labels([0] * 500 + [1] * 500, [0] * 190 + [1] * 10)
    assert codes(found) == {"LABEL_SHIFT"} and found[0].evidence["total_variation"] == pytest.approx(0.45)


# --- command line -------------------------------------------------------------------

def cli(*args):
    return subprocess.run([sys.executable, "-m", "helpers.doctor", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)


def test_cli_on_the_forum_log_text_and_json():
    out = cli(FORUM_LOG, "--loss", "binary_crossentropy", "--val-size", 30405)
    assert out.returncode == 1
    assert out.stdout.splitlines()[0].startswith("METRIC_INCONSISTENT error: ")
    js = cli(FORUM_LOG, "--loss", "binary_crossentropy", "--json")
    items = json.loads(js.stdout)
    assert {"METRIC_INCONSISTENT", "POPULATION_SHIFT"} <= {i["code"] for i in items}
    assert set(items[0]) == {"code", "severity", "message", "evidence", "fix"}


def test_cli_healthy_log_exits_zero(tmp_path):
    from helpers.runs import History

    log = History(metrics=healthy()).to_csv(tmp_path / "ok.csv")
    out = cli(log, "--classes", 10, "--val-size", 2000)
    assert out.returncode == 0 and out.stdout.startswith("GAP summary: accuracy: train 0.90 vs val 0.88")
    assert len(out.stdout.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "no such file"),
        (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not a text CSV"),
        ("just one column\n1\n2\n", "not a training log"),
        ("epoch,loss,accuracy\n0,1,0.5\n1,0.9,0.6\n", "missing column(s) val_loss"),
        ("epoch,loss,val_loss\n0,1,1.1\n", "needs at least 2"),
        ("epoch,loss,val_loss\n0,1,1.1\n1,nan,1.0\n", "NaN or infinite"),
        ("epoch,loss,val_loss\n0,1,1.1\n1,inf,1.0\n", "NaN or infinite"),
        ("epoch,loss,val_loss\n0,1,1.1\n1,abc,1.0\n", "is not a number"),
    ],
    ids=["missing-file", "binary", "not-csv", "missing-column", "one-epoch", "nan", "inf", "text-value"],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, content, needle):
    path = tmp_path / "log.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    out = cli(path)
    assert out.returncode == 2
    assert needle in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_cli_rejects_a_bad_class_count(tmp_path):
    from helpers.runs import History

    log = History(metrics=healthy()).to_csv(tmp_path / "ok.csv")
    out = cli(log, "--classes", 1)
    assert out.returncode == 2 and "n_classes=1" in out.stderr


def test_diagnose_runs_every_probe_its_arguments_allow():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(100, 4))
    found = doctor.diagnose(
        {"loss": [0.1229, 0.1], "accuracy": [0.0207, 0.02], "val_loss": [0.2, 0.15], "val_accuracy": [0.9, 0.92]},
        loss="binary_crossentropy", val_score_fn=lambda: rng.random(), train_x=train, val_x=train[:10],
        train_labels=[0] * 90 + [1] * 10, val_labels=[1] * 10,
    )
    assert codes(found) == {"METRIC_INCONSISTENT", "VAL_NONDETERMINISTIC", "SPLIT_OVERLAP", "LABEL_SHIFT"}
    assert doctor.diagnose() == []
