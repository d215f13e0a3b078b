"""Case 03, what the notebook prints: named helpers over the committed reference (no claim keys where students
read)."""

from __future__ import annotations

import numpy as np

from helpers.runs import LAST, History
from helpers.scenarios.case03_tiny_dataset.claims import early_stop, plateau_change
from helpers.scenarios.case03_tiny_dataset.figures import LEVEL, TITLES, converged_curves, fix_results
from helpers.scenarios.case03_tiny_dataset.lab import build_model, load_data
from helpers.scenarios.case03_tiny_dataset.runs import (
    BEST,
    N_CLASSES,
    N_VAL,
    NO_DROPOUT,
    NO_TRAIN_CALL,
    PATIENCE,
    POSTED_EPOCHS,
    POSTED_NET,
    SATURATED,
    STALLED,
    TRUNK,
    PostedNetConfig,
    TinyDataConfig,
)


def _claims() -> dict:
    from helpers import reference

    return reference.claims("03_tiny_dataset")


def _seeds() -> str:
    from helpers import reference

    seeds = reference.meta("03_tiny_dataset")["seeds"]
    return f"(mean [lowest, highest] over seeds {seeds}; each seed also redraws the data)"


def _parameters(config: TinyDataConfig) -> int:
    return sum(p.numel() for p in build_model(config).parameters())


def show_sizes() -> None:
    """Images per class in our training set, and the parameter counts of the post's network and of ours."""
    y = load_data(TinyDataConfig())["y_train"]
    counts = np.bincount(y, minlength=N_CLASSES)
    print(f"our 630 training images per class: {', '.join(str(c) for c in counts)} (the post gives no counts)")
    sizes = (("the post's ConvNet at its image size (124 x 252)", PostedNetConfig(scale="forum")),
             ("the posted network, our 16 x 16 miniature", PostedNetConfig()),
             ("layer 3 widened to 128, LSTM removed", TinyDataConfig(head="linear")),
             ("the small pooled model", TinyDataConfig(head="pooled")))
    for name, config in sizes:
        print(f"{name:50s} {_parameters(config):>10,} parameters")

def show_widened() -> None:
    c = _claims()
    for name, key in ((STALLED, "stalled"), ("widened, LSTM removed", "trunk")):
        print(f"{name:36s} train {c[f'{key}_train_accuracy']}   val {c[f'{key}_val_accuracy']}")
    print(f"widened, LSTM removed: test {c['trunk_test_accuracy']}, train - val {c['trunk_train_minus_val']}")
    print(f"last {LAST} epochs {_seeds()}")


def show_shuffled() -> None:
    c = _claims()
    print(f"shuffled labels: train {c['shuffled_train_accuracy']}   val {c['shuffled_val_accuracy']}")


def show_stalled() -> None:
    c = _claims()
    print(f"train {c['stalled_train_accuracy']}   val {c['stalled_val_accuracy']}   "
          f"share of gate inputs beyond ±{SATURATED:g} at the end: {c['stalled_lstm_saturation']}")

def show_no_eval() -> None:
    c = _claims()
    for key, name in (("no_eval_val_change", "widened, LSTM removed"), ("best_fix_no_eval_val_change", BEST)):
        print(f"{name:30s} mean |val without eval() - val with it|, last third of epochs: {c[key]}")


def show_fixes(per_seed: list[dict[str, History]]) -> None:
    from helpers.stats import spread, wilson_interval

    results = [fix_results(runs) for runs in per_seed]
    for name in results[0]:
        val, test = (spread([r[name][i] for r in results]) for i in (0, 1))
        print(f"{name:40s} val {val}   test {test}")
    low, high = wilson_interval(0.2, N_VAL, LEVEL)
    print(f"(one 90-image accuracy of 0.20: 90 % Wilson interval [{low:.2f}, {high:.2f}])")


def show_fix_gains() -> None:
    c = _claims()
    for fix, label in (("smaller_model", "smaller model"), ("augmentation", "augmentation"),
                       ("weight_decay", "weight decay"), ("best_fix", BEST), ("transfer", "transfer")):
        print(f"{label:28s} gain over the baseline: val {c[f'{fix}_val_gain']}   test {c[f'{fix}_test_gain']}")
    print("smaller model + weight decay minus the better of the two alone (val):",
          c["best_fix_minus_best_single_val"])
    print(f"augmentation: training accuracy lower by {c['augmentation_train_drop']}")
    print(f"transfer: pre-training accuracy on the 18 other glyphs {c['transfer_pretrain_accuracy']} (chance 0.056)")


def show_early_stopping(per_seed: list[dict[str, History]], plateau: int = 12) -> None:
    """Where early stopping on validation loss (patience PATIENCE) stops, per seed, and why: the loss's first
    epochs sit on the ln 9 plateau, and the best fix takes off only later, with eval-mode swings."""
    print(f"ln 9 = {np.log(N_CLASSES):.2f}; patience {PATIENCE} (our choice: the post gives no number)")
    for name in (TRUNK, BEST):
        print(name)
        for seed, runs in enumerate(per_seed):
            h = runs[name]
            loss, val = np.asarray(h["val_loss"]), np.asarray(h["val_accuracy"])
            stop, kept = early_stop(h)
            line = (f"  seed {seed}: val loss over epochs 1-{plateau} {loss[:plateau].min():.2f}-"
                    f"{loss[:plateau].max():.2f}, lowest at epoch {loss.argmin() + 1}; stops at {stop}, keeps {kept} "
                    f"(train {h['train_eval_accuracy'][stop - 1]:.2f}, val {val[kept - 1]:.2f})")
            if name == BEST:
                late = val[34:45]
                line += (f"; val first >= 0.5 at epoch {int(np.argmax(val >= 0.5)) + 1}, "
                         f"epochs 35-45: {late.min():.2f} to {late.max():.2f}")
            print(line)


def load_posted_data(scale: str = "mini") -> dict[str, np.ndarray]:
    """The images the posted network trains on: 630 training, 90 validation and 90 test."""
    return load_data(PostedNetConfig(scale=scale))


def show_weight_decay() -> None:
    """Our weight decay beside AdamW's default."""
    import torch

    from helpers.scenarios.case03_tiny_dataset.runs import WEIGHT_DECAY

    default = torch.optim.AdamW([torch.zeros(1, requires_grad=True)]).defaults["weight_decay"]
    print(f"AdamW's default weight decay {default:g}; ours {WEIGHT_DECAY:g}, {WEIGHT_DECAY / default:.0f} x default")


def show_live_reference(trained_in_train_mode: bool) -> None:
    """The reference seeds the live cell's run is drawn against: the suspected loop, or with model.train() added."""
    c = _claims()
    if trained_in_train_mode:
        print(f"{POSTED_NET} (model.train() every epoch), {POSTED_EPOCHS} epochs: train {c['posted_train_accuracy']}, "
              f"val {c['posted_val_accuracy']}")
    else:
        print(f"the suspected loop (model.train() never called), {POSTED_EPOCHS} epochs: training accuracy as the loop "
              f"prints it {c['post_loop_logged_train_accuracy']}, val {c['post_loop_val_accuracy']}")


def show_post_loop() -> None:
    """The suspected loop against the same network with model.train() added, and with its Dropout removed."""
    c = _claims()
    print(f"last {LAST} of {POSTED_EPOCHS} epochs")
    print(f"the suspected loop, no model.train(): train as printed {c['post_loop_logged_train_accuracy']}, "
          f"in eval mode {c['post_loop_train_accuracy']}")
    print(f"{'':37s} val {c['post_loop_val_accuracy']}   test {c['post_loop_test_accuracy']}")
    for label, key in (("model.train() added", "posted"), ("model.train() added, Dropout 0", "no_dropout")):
        print(f"{label + ':':37s} train in eval mode {c[f'{key}_train_accuracy']}")
        print(f"{'':37s} val {c[f'{key}_val_accuracy']}   test {c[f'{key}_test_accuracy']}")
    print(f"the suspected loop: printed training accuracy at its best epoch of the last 50 "
          f"{c['post_loop_logged_peak_train_accuracy']}; first reaches 0.9 at epoch "
          f"{c['post_loop_epoch_logged_reaches_0_9']}")
    print(f"share of LSTM gate inputs beyond ±{SATURATED:g} at the end: suspected loop "
          f"{c['post_loop_lstm_saturation']}, model.train() added {c['posted_lstm_saturation']}")
    print(_seeds())


def show_early_stopping_on_the_post(per_seed: list[dict[str, History]]) -> None:
    """Where patience-PATIENCE early stopping on validation loss stops the runs that show the post's numbers, and
    the training accuracy the loop printed at that epoch."""
    print(f"early stopping on val loss, patience {PATIENCE} (our choice: the post gives no number); ln 9 = "
          f"{np.log(N_CLASSES):.2f}")
    for name in (NO_TRAIN_CALL, NO_DROPOUT):
        print(TITLES[name])
        for seed, runs in enumerate(per_seed):
            h = runs[name]
            loss, printed = np.asarray(h["val_loss"]), np.asarray(h["accuracy"])
            stop, kept = early_stop(h)
            reached = f"epoch {int(np.argmax(printed >= 0.98)) + 1}" if (printed >= 0.98).any() else "never"
            print(f"  seed {seed}: stops at epoch {stop} (best val loss at {kept}: {loss[kept - 1]:.2f}); training "
                  f"accuracy printed then {printed[stop - 1]:.2f}; first >= 0.98: {reached}; lowest val loss of "
                  f"the run at epoch {loss.argmin() + 1}")


def show_posted_fixes() -> None:
    """Fixes measured on the posted network itself (its layers 1-3 as posted, 630 images, 150 epochs)."""
    c = _claims()
    rows = (("the suspected loop (model.train() never called)", "post_loop"), ("model.train() added", "posted"),
            ("model.train() + pooled head + weight decay 1.0", "posted_fix"))
    for label, key in rows:
        print(f"{label:48s} val {c[f'{key}_val_accuracy']}   test {c[f'{key}_test_accuracy']}")
    print(f"the posted layers with the pooled head: {_parameters(PostedNetConfig(head='pooled')):,} parameters "
          f"(as posted: {_parameters(PostedNetConfig()):,})")
    print(f"pooled head + weight decay over model.train() alone, val: {c['posted_fix_val_gain']}; its validation "
          f"first reaches 0.5 at epoch {c['posted_fix_epoch_val_reaches_0_5']}; over its last 50 epochs it spans "
          f"(highest minus lowest) {c['posted_fix_val_swing']}")
    print(_seeds())


def show_converged_curve(per_seed: list[dict[str, History]]) -> None:
    """The learning curve of runs trained until training accuracy levels off."""
    from helpers.stats import spread

    curves = converged_curves(per_seed)
    sizes = sorted(curves[0])
    for n in sizes:
        train, val, test = (spread([c[n].final(f"{s}_accuracy", LAST) for c in curves])
                            for s in ("train_eval", "val", "test"))
        moving = spread([plateau_change(c[n]) for c in curves])
        print(f"n = {n:5d} ({curves[0][n].n_epochs:3d} epochs)   train {train}   val {val}   test {test}")
        print(f"{'':20s} training accuracy, last 10 epochs minus the 10 before: {moving}")
    print(f"validation gain from {sizes[0]:,} to {sizes[-1]:,} images: {_claims()['converged_total_val_gain']}")
    print(_seeds())
