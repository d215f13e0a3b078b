"""Case 04, the notebook's named printers (show_*) over the committed reference."""

from __future__ import annotations

import numpy as np

from helpers.runs import History
from helpers.scenarios.case04_metric.claims import EXACT, FORUM, WEIGHTED, loss_ratio
from helpers.scenarios.case04_metric.figures import PRINTED
from helpers.scenarios.case04_metric.lab import as_logged
from helpers.scenarios.case04_metric.runs import GOOD_WEIGHT

# --- what the notebook prints (named helpers: no plumbing where students read) -------------------------------

KEY = "04_mislabeled_accuracy_metric"


def reference_runs() -> list[dict[str, History]]:
    """Every run of ``configs()``, trained once on each reference seed (committed under data/reference)."""
    from helpers import reference

    return reference.load(KEY)


def show_log(log: dict, epochs: tuple[int, ...] = (1, 10, 20, 30)) -> None:
    """A Keras ``history.history`` printed in the post's line format, under the keys this Keras logged.

    Keras 3 logs ``accuracy`` / ``val_accuracy``; the post's Keras 2.2 logged ``acc`` / ``val_acc``.
    """
    acc = "accuracy" if "accuracy" in log else "acc"
    for e in epochs:
        if e <= len(log["loss"]):
            i = e - 1
            print(f"Epoch {e}/{len(log['loss'])} - loss: {log['loss'][i]:.4f} - {acc}: {log[acc][i]:.4f} - "
                  f"val_loss: {log['val_loss'][i]:.4f} - val_{acc}: {log['val_' + acc][i]:.4f}")


def show_bound() -> None:
    """The post's seven lines against the lowest accuracy an unweighted loss allows."""
    from helpers.stats import accuracy_floor

    for e, loss, acc in zip(FORUM["epoch"], FORUM["loss"], FORUM["accuracy"], strict=True):
        print(f"epoch {e:3d}: loss {loss:.4f} allows acc >= {accuracy_floor(loss):.3f}; printed acc {acc:.4f}")


def show_rivals(seeds: list[dict[str, History]]) -> None:
    """(a) and (b) per seed: the loss gap at epoch 1 and 30, and the epochs whose printed acc breaks the bound."""
    from helpers.stats import accuracy_floor

    for name, metric in PRINTED.items():
        for k, seed in enumerate(seeds):
            h, log = seed[name], as_logged(seed[name], metric)
            broken = int(np.sum(log["accuracy"] < accuracy_floor(log["loss"])))
            print(f"{name[:14]} seed {k}: val_loss/loss epoch 1 {loss_ratio(h)[0]:5.1f}, epoch 30 "
                  f"{loss_ratio(h)[-1]:5.1f}; acc below the floor at {broken} of {h.n_epochs} epochs")


def show_fingerprint(seeds: list[dict[str, History]]) -> None:
    """(b) per seed against the fingerprint: loss vs mean weight x ln 2, val_loss vs ln 2, the acc's range."""
    from helpers.stats import LN2

    for k, seed in enumerate(seeds):
        h = seed[WEIGHTED]
        b = h.info["train_bad_rate"]
        predicted = (GOOD_WEIGHT * (1 - b) + b) * LN2
        print(f"(b) seed {k}: loss epoch 1 {h['loss'][0]:.4f}, epoch 30 {h['loss'][-1]:.4f} (outputs at 0.5: "
              f"{predicted:.4f}); val_loss {h['val_loss'].min():.2f} to {h['val_loss'].max():.2f} (ln 2 = {LN2:.2f}); "
              f"acc {h['binary'].min():.2f} to {h['binary'].max():.2f}")


def show_fix(seeds: list[dict[str, History]]) -> None:
    """The fix under (b), measured: the training loss on validation's scale, two ways, beside val_loss (epoch 30)."""
    for k, seed in enumerate(seeds):
        h = seed[WEIGHTED]
        b = h.info["train_bad_rate"]
        mean_weight = GOOD_WEIGHT * (1 - b) + b
        print(f"(b) seed {k}: loss as logged {h['loss'][-1]:.4f}; / mean weight {mean_weight:.4f} = "
              f"{h['loss'][-1] / mean_weight:.3f}; training rows re-scored unweighted {h['train_eval_loss'][-1]:.3f}; "
              f"val_loss {h['val_loss'][-1]:.3f}; val_loss / loss: as logged {h['val_loss'][-1] / h['loss'][-1]:.1f}, "
              f"on one scale {h['val_loss'][-1] * mean_weight / h['loss'][-1]:.2f} and "
              f"{h['val_loss'][-1] / h['train_eval_loss'][-1]:.2f}")


def show_imbalance(seeds: list[dict[str, History]]) -> None:
    """Accuracy against balanced accuracy on validation at epoch 30, each rival's run and 'always good'."""
    for k, seed in enumerate(seeds):
        a, b = seed[EXACT], seed[WEIGHTED]
        print(f"seed {k}: always 'good' {a.info['val_majority_accuracy']:.3f} (balanced 0.5); "
              f"unweighted run: accuracy {a['val_binary'][-1]:.3f}, balanced {a['val_balanced_accuracy'][-1]:.3f}; "
              f"(b): accuracy {b['val_binary'][-1]:.3f}, balanced {b['val_balanced_accuracy'][-1]:.3f}")
