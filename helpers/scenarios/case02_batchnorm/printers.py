"""Case 02, the notebook's named printers (show_*) over the committed reference."""

from __future__ import annotations

import numpy as np

from helpers.scenarios.case02_batchnorm.claims import (
    _claim,
    _per_seed,
    _reference,
    _rows,
    early_stopping,
    mode_gap,
    reference_runs,
)
from helpers.scenarios.case02_batchnorm.runs import FIXED, POST, SGD


def show_sgd_epochs() -> None:
    """SGD's first three epochs: the logged ratio, the mode gap, and where validation is."""
    rows = []
    for e in range(3):
        rows.append((f"epoch {e + 1}: val loss", _per_seed(SGD, lambda h, e=e: h["val_loss"][e])))
        # A ratio of two losses at one early epoch is chaotic across CPUs (273 here, 934 on another machine at
        # epoch 3): its order of magnitude is what holds, so that is what is printed.
        rows.append(("         val loss / logged train loss, log10",
                     _per_seed(SGD, lambda h, e=e: np.log10(h["val_loss"][e] / h["loss"][e]))))
        rows.append(("         mode gap (inference / training mode)",
                     _per_seed(SGD, lambda h, e=e: mode_gap(h)[e])))
        rows.append(("         val accuracy", _per_seed(SGD, lambda h, e=e: h["val_accuracy"][e])))
    _rows(rows)


def show_epoch10() -> None:
    """What is left of the post's gap at epoch 10, in absolute numbers and as ratios."""
    last = -1
    _rows([("val loss", _per_seed(POST, lambda h: h["val_loss"][last])),
           ("logged train loss", _per_seed(POST, lambda h: h["loss"][last])),
           ("val loss - logged train loss", _claim("post_final_val_minus_train_loss")),
           ("val accuracy", _claim("post_final_val_accuracy")),
           ("train accuracy (inference mode) - val accuracy", _claim("post_final_train_eval_minus_val_accuracy")),
           ("val loss / logged train loss", _claim("post_final_log10_val_over_train", "log10")),
           ("mode gap", _claim("post_final_mode_gap"))], header="the post's run at epoch 10, "
          f"mean [lowest, highest] over the {len(reference_runs()[POST])} reference seeds")


def show_evidence() -> None:
    """Epoch 3 of the post's run: the three comparisons that tell the causes apart."""
    _rows([("val loss / logged train loss", _claim("post_epoch3_log10_val_over_train", "log10")),
           ("train set in inference mode / val loss", _claim("post_epoch3_train_eval_over_val")),
           ("val in training mode / logged train loss",
            _per_seed(POST, lambda h: h["val_trainmode_loss"][2] / h["loss"][2])),
           ("the mode gap: val loss, inference / training mode", _claim("post_epoch3_log10_mode_gap", "log10")),
           ("share of the gap (on a log scale) that is the mode", _claim("post_epoch3_mode_share_of_log_gap")),
           ("any epoch with a mode gap > 10: val / train in inference mode",
            f"x{np.exp(_reference()[1]['post_max_honest_gap_while_mode_gap_10'].high):.2f} at most (either way)")],
          header="the post's run at epoch 3 (last line: any epoch), mean [lowest, highest] over the reference seeds")


def show_chance() -> None:
    """The loss before the first step against ln 10, and how close the first epochs stay."""
    from helpers.stats import wilson_interval

    low, high = wilson_interval(0.1, 400, level=0.90)
    best = [float(np.max(h["val_accuracy"][:2])) for h in reference_runs()[POST]]
    _rows([("ln 10", f"{np.log(10):.3f}"),
           ("val loss before the first step", _claim("post_val_loss_at_init")),
           ("epochs 1-3: largest |val loss - ln 10| / ln 10", _claim("post_stale_val_loss_off_ln10")),
           ("epochs 1-2: highest val accuracy", _claim("post_val_accuracy_first_2_epochs")),
           ("  the same, seed by seed", ", ".join(f"{b:.4f}" for b in best)),
           ("chance (0.1) on 400 images, 90 % Wilson interval", f"[{low:.4f}, {high:.4f}]")])


def show_traces() -> None:
    """The numbers under the trace figure."""
    _rows([("step 250, first layer: moving mean / batch mean", _claim("post_first_mean_caught_up_step250")),
           ("steps 50-500, 8th layer: batch variance, max / min", _claim("post_deep_batch_variance_drift")),
           ("step 50, 8th layer: moving / batch variance", _claim("post_deep_moving_over_batch_variance_epoch1")),
           ("step 50, 8th layer input: inference / training variance",
            _claim("post_deep_input_variance_ratio_epoch1")),
           ("step 250, the same", _claim("post_deep_input_variance_ratio_step250"))])


def show_growth() -> None:
    """Which side of the mode gap moves while it grows."""
    _rows([("mode gap at its peak / at epoch 1", _claim("post_mode_gap_growth")),
           ("epoch of the peak", _claim("post_mode_gap_peak_epoch")),
           ("val loss, inference mode: highest up to the peak / epoch 1", _claim("post_stale_val_loss_rise")),
           ("val loss, training mode: epoch 1 / the peak epoch", _claim("post_trainmode_val_fall_to_peak"))])


def show_same_weights() -> None:
    """BatchNorm momentum 0.99 against 0.9: every training-mode number equal, to the last bit, on each seed."""
    by = reference_runs()
    for i, (a, b) in enumerate(zip(by[POST], by[FIXED], strict=True)):
        same = {k: bool(np.array_equal(a[k], b[k])) for k in ("loss", "accuracy", "val_trainmode_loss")}
        gap = np.max(np.abs(a["val_loss"] - b["val_loss"]))
        print(f"seed {i}: logged train loss identical: {same['loss']}, train accuracy: {same['accuracy']}, "
              f"val loss in training mode: {same['val_trainmode_loss']}; val loss (inference) differs by up to "
              f"{gap:.2f}")


def show_fixes() -> None:
    """The four runs compared: BatchNorm momentum 0.9, SGD, a lower learning rate."""
    _rows([("BN momentum 0.9: mode gap, epochs 2-10, lowest", _claim("fixed_min_mode_gap_from_epoch2")),
           ("BN momentum 0.9: mode gap, epochs 2-10, highest", _claim("fixed_max_mode_gap_from_epoch2")),
           ("BN momentum 0.9: epochs 1-3, highest val / logged train",
            _claim("fixed_max_log10_val_over_train_epochs_1_3", "log10")),
           ("BN momentum 0.9: val accuracy at epoch 10", _claim("fixed_final_val_accuracy")),
           ("SGD: peak mode gap / the post's", _claim("sgd_over_post_peak_mode_gap")),
           ("epochs until val loss < 0.5: post minus SGD", _claim("post_minus_sgd_epochs_to_half")),
           ("Adam lr 1e-4 minus post: epochs until val loss < 2.0", _claim("low_lr_minus_post_epochs_at_chance")),
           ("Adam lr 1e-4: largest mode gap", _claim("low_lr_max_mode_gap")),
           ("Adam lr 1e-4: val loss in training mode, epoch 10", _claim("low_lr_final_trainmode_val_loss"))])


def show_deep_ratio() -> None:
    """The eighth layer's catch-up at step 250, the post's run against SGD and the lower learning rate."""
    _rows([("step 250, 8th layer input, inference / training variance: post",
            _claim("post_deep_input_variance_ratio_step250")),
           ("the same, SGD minus post", _claim("sgd_minus_post_deep_input_variance_ratio_step250")),
           ("the same, Adam lr 1e-4 minus post", _claim("low_lr_minus_post_deep_input_variance_ratio_step250"))])


def show_early_stopping(patience: int = 3) -> None:
    """EarlyStopping(monitor="val_loss", patience, restore_best_weights=True) replayed on each seed's post run."""
    for i, h in enumerate(reference_runs()[POST]):
        stop, kept = early_stopping(h["val_loss"], patience)
        where = f"stops after epoch {stop}" if stop else f"runs all {h.n_epochs} epochs"
        print(f"seed {i}: {where}, keeps epoch {kept}: val accuracy {h['val_accuracy'][kept - 1]:.2f}")
    print(f"every seed, the best-val-loss epoch among epochs 1-3: val accuracy "
          f"{_claim('post_best_val_accuracy_epochs_1_3')}")
