"""Case 03, what the notebook's words claim (BANDS) and the measurements behind them."""

from __future__ import annotations

import numpy as np

from helpers.runs import LAST, History, run
from helpers.scenarios.case03_tiny_dataset.runs import (
    BEST,
    FIXES,
    NO_DROPOUT,
    NO_TRAIN_CALL,
    PATIENCE,
    POSTED_FIX,
    POSTED_NET,
    STALLED,
    TRANSFER,
    TRUNK,
    configs_with_extras,
    converged_curve_configs,
    learning_curve_configs,
)

# What the notebook's words claim, one band each; every reference seed (data/reference) and every
# retrain on a student's machine must land inside (tests/test_contract.py).
BANDS: dict[str, tuple[float, float]] = {
    # The BiLSTM head on layer 3 widened to 128 does not train: train and val stay at chance (1/9), the LSTM's
    # gates saturated.
    "stalled_train_accuracy": (0.05, 0.2),
    "stalled_val_accuracy": (0.03, 0.2),
    "stalled_val_accuracy_spread": (0.0, 0.005),  # validation accuracy does not move in the last third
    "stalled_lstm_saturation": (0.6, 1.0),  # share of the first layer's gate pre-activations beyond ±3
    # The network as posted (layer 3 at 8 channels, BiLSTM head, Dropout 0.25 in every block), 150 epochs: training
    # creeps up and stays far below the post's 98-100 %; no memorising gap opens.
    "posted_peak_train_accuracy": (0.2, 0.8),  # the best epoch of the last 50
    "posted_train_minus_val": (-0.1, 0.4),
    "posted_train_accuracy": (0.2, 0.75),  # last 3 epochs, re-scored in eval mode
    "posted_val_accuracy": (0.08, 0.55),
    "posted_test_accuracy": (0.08, 0.55),
    # The post's loop: the posted network (Dropout 0.25) trained by the tutorial's loop with model.eval() before
    # each validation and no model.train() after (every epoch after the first trains in eval mode). The training
    # accuracy the loop prints reaches the post's 98-100 % (best epoch of the last 50), slowly; validation and
    # test stay near chance, never above the post's 15-20 % band by much.
    "post_loop_logged_peak_train_accuracy": (0.9, 1.0),
    "post_loop_epoch_logged_reaches_0_9": (40, 150),  # 90-104 on the reference seeds: not "rapidly"
    "post_loop_val_accuracy": (0.02, 0.25),
    "post_loop_test_accuracy": (0.02, 0.25),
    "post_loop_val_accuracy_highest": (0.1, 0.3),  # the best epoch of the whole run
    "post_loop_train_minus_val": (0.5, 0.97),
    # Adding the missing model.train() (the posted-network run): training falls by about half, validation is no
    # worse (it rises on the reference seeds, by 0.03 to 0.33).
    "train_call_train_drop": (0.2, 0.8),
    "train_call_val_change": (-0.05, 0.5),
    # Rival 2, gate saturation: as high in the run that memorises as in the one that does not (rival 1, the
    # 32-number flatten, is the same in both by construction).
    "post_loop_lstm_saturation": (0.4, 0.95),
    "posted_lstm_saturation": (0.4, 0.95),
    "saturation_loop_minus_train_call": (-0.1, 0.1),
    # Early stopping (patience 5, our choice) stops the post's loop before it memorises: it never prints 98 %.
    "post_loop_early_stop_epoch": (3, 40),
    "post_loop_train_at_early_stop": (0.0, 0.5),
    "no_dropout_early_stop_epoch": (2, 45),
    "no_dropout_train_at_early_stop": (0.0, 0.85),
    # The learning curve of converged runs (the widened, LSTM-free network trained until training accuracy is near
    # 1: 100 epochs at 630 images, 60 at 1 260): at 630 it memorises and validation varies widely with the seed;
    # doubling the data lifts validation on every seed and closes the gap.
    "converged_lowest_train_accuracy": (0.93, 1.0),
    "converged_smallest_train_still_moving": (-0.03, 0.03),  # training flat over the last 20 epochs at 630
    "converged_smallest_val_accuracy": (0.1, 0.8),
    "converged_smallest_train_minus_val": (0.2, 0.9),
    "converged_largest_val_accuracy": (0.75, 1.0),
    "converged_largest_train_minus_val": (-0.08, 0.15),
    "converged_total_val_gain": (0.15, 0.85),
    # The best fix of the wider network's set (pooled head + weight decay 1.0) on the posted layers 1-3, with
    # model.train(): validation rises far above model.train() alone and meets training, late (after epoch 45 on
    # the reference seeds) and with swings between epochs, so the lower bounds leave room.
    "posted_fix_val_accuracy": (0.3, 1.0),
    "posted_fix_test_accuracy": (0.3, 1.0),
    "posted_fix_train_minus_val": (-0.15, 0.15),
    "posted_fix_val_gain": (0.15, 0.9),
    "posted_fix_epoch_val_reaches_0_5": (15, 140),
    "posted_fix_val_swing": (0.1, 1.0),  # highest minus lowest validation over the last 50 epochs
    # The one change that shows the post's symptom: Dropout removed. Training reaches the post's 98-100 % (at some
    # epoch of the last 50: it is unstable, with dips), validation and test stay at the post's 15-20 %.
    "no_dropout_peak_train_accuracy": (0.9, 1.0),
    "no_dropout_val_accuracy": (0.05, 0.3),
    "no_dropout_test_accuracy": (0.05, 0.35),
    "no_dropout_train_minus_val": (0.4, 0.95),
    "no_dropout_train_accuracy": (0.6, 1.0),  # last 3 epochs: lower than its peak on one seed (a dip)
    "no_dropout_epoch_train_reaches_0_9": (30, 150),  # slowly: after 50-110 epochs on the reference seeds
    "no_dropout_lowest_train_after_0_9": (0.0, 0.85),  # and unstable once there: some epoch drops far below
    # The same trunk without the LSTM memorises 630 images: train ≈ 1, validation far below (it varies a lot
    # from seed to seed, 0.18–0.49: 90 images and a run that memorises).
    "trunk_train_accuracy": (0.93, 1.0),  # re-scored in eval mode
    "trunk_val_accuracy": (0.08, 0.55),
    "trunk_test_accuracy": (0.08, 0.55),
    "trunk_train_minus_val": (0.4, 0.95),
    "trunk_parameters": (556_489, 556_489),
    "lstm_extra_parameters": (67_554, 67_554),
    "lstm_removed_val_gain": (0.03, 0.45),  # removing the LSTM helps
    # Shuffled labels are memorised as well as real ones.
    "shuffled_train_accuracy": (0.9, 1.0),
    "shuffled_val_accuracy": (0.0, 0.2),
    # Forgetting model.eval(): the same weights, validated in train mode, print another number epoch after epoch
    # (mean |difference| over the last third; its sign differs between machines, so only its size is claimed).
    "no_eval_val_change": (0.01, 0.3),
    "best_fix_no_eval_val_change": (0.01, 0.3),
    # Fixes at n = 630, each against the LSTM-free network (gains in accuracy on 90 images).
    "smaller_model_val_gain": (0.1, 0.6),
    "smaller_model_test_gain": (0.1, 0.55),
    "augmentation_val_gain": (0.01, 0.25),
    "augmentation_test_gain": (0.0, 0.3),
    "augmentation_train_drop": (0.2, 0.7),  # augmentation stops the memorising
    "weight_decay_val_gain": (0.03, 0.45),
    "weight_decay_test_gain": (0.03, 0.5),
    "best_fix_val_gain": (0.4, 0.85),  # smaller model + weight decay
    "best_fix_test_gain": (0.4, 0.85),
    "best_fix_train_minus_val": (-0.05, 0.08),  # the gap closes
    "best_fix_minus_best_single_val": (0.05, 0.7),  # together better than the better of the two alone
    "all_three_minus_best_val": (-0.35, -0.02),  # adding augmentation costs within 60 epochs
    # Early stopping (patience 5, our choice: the post gives none) on val loss keeps an epoch from before anything
    # was learnt.
    # Transfer from 18 other glyphs (4 epochs of pre-training, then 30 of fine-tuning on the 630): it helps on
    # every seed, by far less than the smaller model + weight decay, though the pre-training itself barely leaves
    # its chance level (1/18) in 4 epochs; a gap to training remains.
    "transfer_val_gain": (0.0, 0.5),
    "transfer_test_gain": (0.0, 0.5),
    "transfer_pretrain_accuracy": (0.056, 0.4),
    "transfer_train_minus_val": (0.08, 0.7),
    "early_stopping_val_gain": (-0.4, 0.02),
    "early_stopping_test_gain": (-0.4, 0.02),
    "trunk_early_stop_kept_epoch": (1, 8),
    "best_fix_early_stop_epoch": (5, 12),  # patience 5 would have stopped the best run before it learnt
}
# --- measurements -------------------------------------------------------------


def early_stop(history: History, patience: int = PATIENCE) -> tuple[int, int]:
    """(epoch training stops at, epoch whose weights are kept), 1-based, stopping on val loss."""
    val = np.asarray(history["val_loss"])
    best = 0
    for epoch in range(len(val)):
        if val[epoch] < val[best]:
            best = epoch
        if epoch - best >= patience:
            return epoch + 1, best + 1
    return len(val), best + 1


def at_early_stop(history: History, metric: str) -> float:
    """``metric`` at the epoch early stopping keeps."""
    return float(history[metric][early_stop(history)[1] - 1])


def plateau_change(history: History, metric: str = "train_eval_accuracy", window: int = 10) -> float:
    """How much ``metric`` still moved at the end: mean of the last ``window`` epochs minus the ``window`` before."""
    values = np.asarray(history[metric])
    return float(values[-window:].mean() - values[-2 * window:-window].mean())


def post_loop_measures(h: dict[str, History]) -> dict[str, float]:
    """The post's loop (model.train() never called) against the same network with it (the posted-network run),
    the evidence on the two rivals (the 32-number flatten is in both; gate saturation measured in both), early
    stopping on each, and the best fix on the posted layers."""
    loop, posted = h[NO_TRAIN_CALL], h[POSTED_NET]
    logged = np.asarray(loop["accuracy"])  # what the loop prints: the running mean over the epoch's batches
    third = loop.n_epochs // 3
    out = {
        "post_loop_logged_peak_train_accuracy": float(logged[-third:].max()),
        "post_loop_logged_train_accuracy": loop.final("accuracy", LAST),
        "post_loop_train_accuracy": loop.final("train_eval_accuracy", LAST),
        "post_loop_val_accuracy": loop.final("val_accuracy", LAST),
        "post_loop_test_accuracy": loop.final("test_accuracy", LAST),
        "post_loop_val_accuracy_highest": float(np.max(loop["val_accuracy"])),
        "post_loop_train_minus_val": loop.final("train_eval_accuracy", LAST) - loop.final("val_accuracy", LAST),
        "post_loop_epoch_logged_reaches_0_9": float(np.argmax(logged >= 0.9) + 1) if (logged >= 0.9).any()
        else float(loop.n_epochs + 1),
        # Adding model.train() (the posted-network run): training falls far, validation does not fall.
        "train_call_train_drop": loop.final("train_eval_accuracy", LAST) - posted.final("train_eval_accuracy", LAST),
        "train_call_val_change": posted.final("val_accuracy", LAST) - loop.final("val_accuracy", LAST),
        "post_loop_lstm_saturation": loop.final("lstm_saturation", LAST),
        "posted_lstm_saturation": posted.final("lstm_saturation", LAST),
        "saturation_loop_minus_train_call": loop.final("lstm_saturation", LAST) - posted.final("lstm_saturation", LAST),
    }
    for key, name in (("post_loop", NO_TRAIN_CALL), ("no_dropout", NO_DROPOUT)):
        if name in h:
            stop, _ = early_stop(h[name])
            out[f"{key}_early_stop_epoch"] = float(stop)
            out[f"{key}_train_at_early_stop"] = float(h[name]["accuracy"][stop - 1])  # what the loop printed then
    if POSTED_FIX in h:
        fix = h[POSTED_FIX]
        out.update({"posted_fix_val_accuracy": fix.final("val_accuracy", LAST),
                    "posted_fix_test_accuracy": fix.final("test_accuracy", LAST),
                    "posted_fix_train_minus_val": (fix.final("train_eval_accuracy", LAST)
                                                   - fix.final("val_accuracy", LAST)),
                    "posted_fix_val_gain": fix.final("val_accuracy", LAST) - posted.final("val_accuracy", LAST),
                    "posted_fix_val_swing": float(np.ptp(np.asarray(fix["val_accuracy"])[-50:])),
                    "posted_fix_epoch_val_reaches_0_5": float(np.argmax(np.asarray(fix["val_accuracy"]) >= 0.5) + 1)
                    if (np.asarray(fix["val_accuracy"]) >= 0.5).any() else float(fix.n_epochs + 1)})
    return out


def converged_measures(curve: dict[int, History]) -> dict[str, float]:
    """The learning curve of runs trained until training accuracy is near 1."""
    sizes = sorted(curve)
    small, large = curve[sizes[0]], curve[sizes[-1]]
    return {
        "converged_lowest_train_accuracy": min(curve[n].final("train_eval_accuracy", LAST) for n in sizes),
        "converged_smallest_train_still_moving": plateau_change(small),
        "converged_smallest_val_accuracy": small.final("val_accuracy", LAST),
        "converged_largest_val_accuracy": large.final("val_accuracy", LAST),
        "converged_largest_train_minus_val": (large.final("train_eval_accuracy", LAST)
                                              - large.final("val_accuracy", LAST)),
        "converged_smallest_train_minus_val": (small.final("train_eval_accuracy", LAST)
                                               - small.final("val_accuracy", LAST)),
        "converged_total_val_gain": large.final("val_accuracy", LAST) - small.final("val_accuracy", LAST),
    }


def measure(histories: dict[str, History] | None = None,
            curve: dict[int, History] | None = None) -> dict[str, float]:
    """The numbers behind each claim, from configs('mini') and learning_curve_configs('mini')."""
    given = histories or {}
    h = {name: given[name] if name in given else run(c) for name, c in configs_with_extras().items()}
    lc = curve or {n: given.get(f"n = {n}") or run(c) for n, c in learning_curve_configs().items()}
    converged = {n: given.get(f"converged, n = {n}") or run(c) for n, c in converged_curve_configs().items()}
    stalled, trunk, shuffled = h[STALLED], h[TRUNK], h["shuffled labels"]

    def final(history: History, metric: str) -> float:
        return history.final(metric, LAST)

    def gap(history: History) -> float:
        return final(history, "train_eval_accuracy") - final(history, "val_accuracy")

    def no_eval_change(history: History) -> float:
        """Mean |accuracy without model.eval() − with it| over the last third of epochs (same weights)."""
        third = history.n_epochs // 3
        return float(np.mean(np.abs(history["val_trainmode_accuracy"][-third:] - history["val_accuracy"][-third:])))

    base = final(trunk, "val_accuracy")
    sizes = sorted(lc)
    out = {
        "stalled_train_accuracy": final(stalled, "train_eval_accuracy"),
        "stalled_val_accuracy": final(stalled, "val_accuracy"),
        "stalled_lstm_saturation": final(stalled, "lstm_saturation"),
        # The BiLSTM head's curves go flat: the same answers every epoch over the last third of training.
        "stalled_val_accuracy_spread": float(np.std(stalled["val_accuracy"][-(stalled.n_epochs // 3):])),
        "trunk_train_accuracy": final(trunk, "train_eval_accuracy"),
        "trunk_val_accuracy": base,
        "trunk_test_accuracy": final(trunk, "test_accuracy"),
        "trunk_train_minus_val": gap(trunk),
        "lstm_removed_val_gain": base - final(stalled, "val_accuracy"),
        "shuffled_train_accuracy": final(shuffled, "train_eval_accuracy"),
        "shuffled_val_accuracy": final(shuffled, "val_accuracy"),
        "no_eval_val_change": no_eval_change(trunk),
        "best_fix_no_eval_val_change": no_eval_change(h[BEST]),
        "trunk_parameters": float(trunk.info["parameters"]),
        "lstm_extra_parameters": float(stalled.info["parameters"] - trunk.info["parameters"]),
        "largest_n_val_accuracy": final(lc[sizes[-1]], "val_accuracy"),
        "largest_n_train_minus_val": gap(lc[sizes[-1]]),
        "learning_curve_total_gain": final(lc[sizes[-1]], "val_accuracy") - final(lc[sizes[0]], "val_accuracy"),
        "best_fix_train_minus_val": gap(h[BEST]),
        "early_stopping_val_gain": at_early_stop(trunk, "val_accuracy") - base,
        "early_stopping_test_gain": at_early_stop(trunk, "test_accuracy") - final(trunk, "test_accuracy"),
        "best_fix_val_gain": final(h[BEST], "val_accuracy") - base,
        "best_fix_test_gain": final(h[BEST], "test_accuracy") - final(trunk, "test_accuracy"),
        "best_fix_minus_best_single_val": final(h[BEST], "val_accuracy") - max(
            final(h[name], "val_accuracy") for name in ("smaller model", "weight decay")),
        "augmentation_train_drop": (final(trunk, "train_eval_accuracy")
                                    - final(h["augmentation"], "train_eval_accuracy")),
        "all_three_minus_best_val": final(h["all three fixes"], "val_accuracy") - final(h[BEST], "val_accuracy"),
        "trunk_early_stop_kept_epoch": float(early_stop(trunk)[1]),
        "best_fix_early_stop_epoch": float(early_stop(h[BEST])[0]),
    }
    for key, name in (("posted", POSTED_NET), ("no_dropout", NO_DROPOUT)):
        if name in h:
            train = np.asarray(h[name]["train_eval_accuracy"])
            last_third = train[-(h[name].n_epochs // 3):]
            if (train >= 0.9).any():  # when it first reaches 0.9, and how far it falls after
                reached = int(np.argmax(train >= 0.9))
                out.update({f"{key}_epoch_train_reaches_0_9": float(reached + 1),
                            f"{key}_lowest_train_after_0_9": float(train[reached:].min())})
            out.update({f"{key}_train_accuracy": final(h[name], "train_eval_accuracy"),
                        f"{key}_peak_train_accuracy": float(np.max(last_third)),
                        f"{key}_val_accuracy_highest": float(np.max(h[name]["val_accuracy"])),
                        f"{key}_val_accuracy": final(h[name], "val_accuracy"),
                        f"{key}_test_accuracy": final(h[name], "test_accuracy"),
                        f"{key}_train_minus_val": gap(h[name])})
    if TRANSFER in h:
        out.update({
            "transfer_pretrain_accuracy": float(h[TRANSFER].info["pretrain_train_accuracy"]),
            "transfer_val_gain": final(h[TRANSFER], "val_accuracy") - base,
            "transfer_test_gain": final(h[TRANSFER], "test_accuracy") - final(trunk, "test_accuracy"),
            "transfer_train_minus_val": gap(h[TRANSFER]),
        })
    out.update(post_loop_measures(h))
    out.update(converged_measures(converged))
    for name in FIXES:
        out[f"{name.replace(' ', '_')}_val_gain"] = final(h[name], "val_accuracy") - base
        out[f"{name.replace(' ', '_')}_test_gain"] = final(h[name], "test_accuracy") - final(trunk, "test_accuracy")
    return out
