"""Case 03 — a tiny dataset: 630 images, 9 classes, a CNN + BiLSTM that memorises (PyTorch).

Forum case: Data Science SE 51961. The post's
network: three blocks of Conv → BatchNorm → ReLU → MaxPool → Dropout 0.25
(16, 32 and 8 channels, the last with kernel 2 and padding 1), Linear to 1024,
a 2-layer bidirectional LSTM with hidden size 9 over a sequence of length 1,
Linear 18 → 9. 630 / 90 / 90 samples, early stopping on validation loss.

Miniature: 16×16 colour images (``datasets.glyph_images``: a faint glyph that can sit
anywhere, over clutter of each image's own). ``PostedNetConfig`` is the network as posted
(layer 3: 8 channels, so the flatten holds 8 × 2 × 2 = 32 numbers; the post's 4 096): as posted
it does not memorise in 150 epochs; with its Dropout removed it shows the post's symptom.
``TinyDataConfig`` widens layer 3 to 128 channels (a 512-number flatten) and studies it with
the LSTM removed, kept, or replaced by a pooled head; ``TransferConfig`` pre-trains that
network on 18 other glyphs first. The optimiser (Adam, lr 1e-3, batch 32) is a guess: the
post does not show it. PyTorch only: this module never imports TensorFlow.

One module per job: ``runs`` (configs, run names, RETRAIN), ``lab`` (data, model, training: what the cache
key hashes), ``claims`` (BANDS, measure, early stopping), ``figures`` (draw functions, knobs, panel glue).
Every name is re-exported here, as the single module had it; the code digest counts statements, not files,
so the split left the committed reference current.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.runs import LAST, History, Progress, RunConfig, run
from helpers.scenarios.case03_tiny_dataset.claims import BANDS, at_early_stop, early_stop, measure
from helpers.scenarios.case03_tiny_dataset.figures import (
    PANEL_DEMO,
    SPLITS,
    _seed_errors,
    draw_examples,
    draw_fixes,
    draw_learning_curve,
    draw_panel,
    draw_poster_bands,
    draw_story,
    fix_results,
    glyph_boxes,
    knobs,
    learning_curves,
    make_config,
    plot_accuracy,
    plot_seeds,
    reference_runs,
)
from helpers.scenarios.case03_tiny_dataset.lab import (
    build_model,
    load_data,
    lstm_saturation,
    pretrain_data,
    shift_and_flip,
    train,
    train_transfer,
)
from helpers.scenarios.case03_tiny_dataset.runs import (
    BATCH,
    BEST,
    DROPOUTS,
    EPOCHS,
    FINETUNE_EPOCHS,
    FIXES,
    HEADS,
    LR,
    MAX_SHIFT,
    N_CLASSES,
    N_TEST,
    N_VAL,
    NO_DROPOUT,
    PATIENCE,
    POSTED,
    POSTED_EPOCHS,
    POSTED_NET,
    PRETRAIN_CLASSES,
    PRETRAIN_EPOCHS,
    PRETRAIN_IMAGES,
    PRETRAIN_SEED,
    RETRAIN,
    SAMPLE_BUDGET,
    SATURATED,
    SCALES,
    SIGNAL,
    STALLED,
    TRAIN_SIZES,
    TRANSFER,
    TRUNK,
    WEIGHT_DECAY,
    WEIGHT_DECAYS,
    WIDTHS,
    Config,
    PostedNetConfig,
    TinyDataConfig,
    TransferConfig,
    configs,
    configs_with_extras,
    epochs_for,
    learning_curve_configs,
    reference_configs,
)
from helpers.validate import check_bool, check_choice, check_range

__all__ = [  # every name the single module had: notebooks, tests and the clinic read them as case03_tiny_dataset.X
    "BANDS", "BATCH", "BEST", "DROPOUTS", "EPOCHS", "FINETUNE_EPOCHS", "FIXES", "HEADS", "LAST", "LR", "MAX_SHIFT",
    "NO_DROPOUT", "N_CLASSES", "N_TEST", "N_VAL", "PANEL_DEMO", "PATIENCE", "POSTED", "POSTED_EPOCHS", "POSTED_NET",
    "PRETRAIN_CLASSES", "PRETRAIN_EPOCHS", "PRETRAIN_IMAGES", "PRETRAIN_SEED", "RETRAIN", "SAMPLE_BUDGET",
    "SATURATED", "SCALES", "SIGNAL", "SPLITS", "STALLED", "TRAIN_SIZES", "TRANSFER", "TRUNK", "WEIGHT_DECAY",
    "WEIGHT_DECAYS", "WIDTHS", "Config", "History", "PostedNetConfig", "Progress", "RunConfig", "TinyDataConfig",
    "TransferConfig", "_seed_errors", "at_early_stop", "build_model", "check_bool", "check_choice", "check_range",
    "configs", "configs_with_extras", "dataclass", "draw_examples", "draw_fixes", "draw_learning_curve",
    "draw_panel", "draw_poster_bands", "draw_story", "early_stop", "epochs_for", "fix_results", "glyph_boxes",
    "knobs", "learning_curve_configs", "learning_curves", "load_data", "lstm_saturation", "make_config", "measure",
    "np", "plot_accuracy", "plot_seeds", "pretrain_data", "reference_configs", "reference_runs", "run",
    "shift_and_flip", "train", "train_transfer",
]
