"""Notebook 00, the notebook's named printers (show_*) over the committed reference."""

from __future__ import annotations

import numpy as np

from helpers.runs import LAST, History
from helpers.scenarios.reading_curves.claims import _reference_seeds, train_labels
from helpers.scenarios.reading_curves.lab import load_data
from helpers.scenarios.reading_curves.runs import CLEAN, RETRAINED, SHAPES, WHY, CurvesConfig


def show_changes() -> None:
    """Print what each shape changes from the healthy run, and why any second change is there."""
    base = CurvesConfig()
    for name, config in SHAPES.items():
        fields = ("epochs", "n_train", "n_val", "val_source", "hidden", "dropout", "label_noise", "lr")
        changed = {f: getattr(config, f) for f in fields if getattr(config, f) != getattr(base, f)}
        print(f"{name:17s} {changed or 'the baseline: 1 000 train, 400 val, 64 units, 40 epochs, AdamW lr 1e-3'}")
        for field, why in WHY.get(name, {}).items():
            print(f"{'':19s}{field}: {why}")


def show_init_losses(runs: dict[str, History]) -> None:
    """Each run's validation loss before its first step, against ln 10 and the training labels' prior entropy."""
    from helpers.stats import prior_entropy

    print(f"ln 10 = {np.log(10):.3f}; entropy of the training labels' class shares "
          f"= {prior_entropy(train_labels()):.3f}")
    for name, r in runs.items():
        print(f"{name:17s} val loss before any step {r.info['val_loss_at_init']:.3f}")
    print(f"2 % positives (notebook 04): prior entropy {prior_entropy([0.98, 0.02], shares=True):.3f} "
          f"against ln 2 = {np.log(2):.3f}")


def show_train_dev_reading() -> None:
    """Over the reference seeds: train - train-dev and train-dev - val at the end, for overfitting and shift."""
    from helpers.stats import spread

    seeds = _reference_seeds()
    for name in ("overfitting", "population shift"):
        train_dev = spread([s[name].final("train_eval_accuracy", LAST) - s[name].final("train_dev_accuracy", LAST)
                            for s in seeds])
        dev_val = spread([s[name].final("train_dev_accuracy", LAST) - s[name].final("val_accuracy", LAST)
                          for s in seeds])
        print(f"{name:17s} accuracy: train - train-dev "
              f"{train_dev.mean:+.2f} [{train_dev.low:+.2f}, {train_dev.high:+.2f}]  "
              f"train-dev - val {dev_val.mean:+.2f} [{dev_val.low:+.2f}, {dev_val.high:+.2f}]  "
              f"(mean [lowest, highest] of 3 seeds, last 3 epochs)")


def show_over_confidence() -> None:
    """The shift run's val loss and val accuracy at the val-loss minimum and at the end, per reference seed."""
    for seed, s in enumerate(_reference_seeds()):
        h = s["population shift"]
        best = int(np.argmin(h["val_loss"]))
        print(f"seed {seed}: val loss {h['val_loss'][best]:.2f} (epoch {best + 1}) -> {h['val_loss'][-1]:.2f} "
              f"(epoch {h.n_epochs});  val accuracy {h['val_accuracy'][best]:.2f} -> {h['val_accuracy'][-1]:.2f}")


def show_clean_labels() -> None:
    """The panel's first suggestion on every reference seed: the overfitting run's val-loss rise (final / minimum)
    and final train accuracy (re-scored), with 20 % wrong labels and with clean labels."""
    for seed, s in enumerate(_reference_seeds()):
        runs_ = {"20 % wrong labels": s["overfitting"], "clean labels": s[CLEAN]}
        print(f"seed {seed}: " + ";  ".join(
            f"{label}: val loss end / minimum {h.final('val_loss') / float(h['val_loss'].min()):.2f}, "
            f"train accuracy {h.final('train_eval_accuracy'):.2f}" for label, h in runs_.items()))


def show_noisy_validation() -> None:
    """What 25 validation rows show, per reference seed: the offset from train-dev and the step size."""
    from helpers.stats import wilson_interval

    for seed, s in enumerate(_reference_seeds()):
        h = s["noisy validation"]
        half = h.n_epochs // 2
        offset = float(np.mean(h["val_accuracy"][half:] - h["train_dev_accuracy"][half:]))
        jumps = np.mean(np.abs(np.diff(h["val_accuracy"]))), np.mean(np.abs(np.diff(h["train_dev_accuracy"])))
        acc = float(np.mean(h["val_accuracy"][half:]))
        low, high = wilson_interval(acc, 25, 0.90)
        print(f"seed {seed}: val - train-dev {offset:+.3f} (epochs {half + 1}-{h.n_epochs});  mean step: val "
              f"{jumps[0]:.3f}, train-dev {jumps[1]:.3f};  90 % Wilson interval of val {acc:.2f} on 25 rows: "
              f"[{low:.2f}, {high:.2f}]")


def one_batch(seed: int = 0, size: int = 32):
    """``size`` training rows of digits as tensors, with every random generator seeded (for "overfit one batch")."""
    from helpers import torch_lab

    torch_lab.set_seeds(seed)
    x, y = load_data(SHAPES["healthy"])["train"]
    pick = np.random.default_rng(seed).choice(len(y), size, replace=False)
    return torch_lab.as_tensors(x[pick], y[pick])


def show_final_model() -> None:
    """The healthy settings chosen on val, and the final model on train + val: each scored once on the test set."""
    from helpers.stats import spread, wilson_interval

    seeds = _reference_seeds()
    n_test = int(seeds[0]["healthy"].info["n_test"])
    for name in ("healthy", RETRAINED):
        scores = [s[name].info["test_accuracy"] for s in seeds]
        low, high = wilson_interval(float(np.mean(scores)), n_test, 0.90)
        rows = int(seeds[0][name].info["n_train"])
        print(f"{name} ({rows} training rows): test accuracy per seed {', '.join(f'{v:.3f}' for v in scores)};  "
              f"90 % Wilson interval of the mean on {n_test} rows [{low:.3f}, {high:.3f}]")
    gains = spread([s[RETRAINED].info["test_accuracy"] - s["healthy"].info["test_accuracy"] for s in seeds])
    print(f"gain per seed: {', '.join(f'{v:+.3f}' for v in gains.values)}  (one test row = {1 / n_test:.3f})")
