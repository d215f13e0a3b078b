"""Case 03, data, model and training: what the cache key hashes."""

from __future__ import annotations

import numpy as np

from helpers.runs import History, Progress
from helpers.scenarios.case03_tiny_dataset.runs import (
    BATCH,
    LR,
    MAX_SHIFT,
    N_CLASSES,
    N_TEST,
    N_VAL,
    PRETRAIN_CLASSES,
    PRETRAIN_EPOCHS,
    PRETRAIN_SEED,
    SATURATED,
    SIGNAL,
    TinyDataConfig,
    TransferConfig,
    TutorialLoopConfig,
)

# --- data and model ---------------------------------------------------------


def load_data(config: TinyDataConfig) -> dict[str, np.ndarray]:
    """Train (n_train), val (90) and test (90), NCHW; the test images are drawn apart from the rest."""
    from helpers.datasets import glyph_images, rng

    s = config.sizes
    kwargs = {"n_classes": N_CLASSES, "size": s["image"], "glyph": s["glyph"], "signal": SIGNAL}
    # Image i does not depend on how many are drawn: a smaller n is a prefix of a larger one, with the same
    # validation images (a true learning curve).
    x, y = glyph_images(N_VAL + config.n_train, seed=config.seed, **kwargs)
    x_test, y_test = glyph_images(N_TEST, seed=config.seed + 7919, **kwargs)
    x_train, y_train = x[N_VAL : N_VAL + config.n_train], y[N_VAL : N_VAL + config.n_train].copy()
    if config.shuffled_labels:
        y_train = rng(config.seed + 1).permutation(y_train)
    return {"x_train": x_train, "y_train": y_train, "x_val": x[:N_VAL], "y_val": y[:N_VAL], "x_test": x_test,
            "y_test": y_test}


def build_model(config: TinyDataConfig):
    """The post's ConvNet (head "lstm"), the same trunk with the LSTM removed ("linear"), or a pooled head."""
    import torch
    from torch import nn

    s = config.sizes
    channels = [max(2, round(c * config.width)) for c in s["channels"]]
    dense = max(8, round(s["dense"] * config.width))

    def block(c_in: int, c_out: int, kernel: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride=1, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                             nn.MaxPool2d(2, 2), nn.Dropout(config.dropout))

    class ConvNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer1 = block(3, channels[0], 3)
            self.layer2 = block(channels[0], channels[1], 3)
            self.layer3 = block(channels[1], channels[2], 2)  # kernel 2, padding 1, as in the post
            if config.head == "pooled":  # a max over positions: where the glyph sits stops mattering
                self.flc2 = nn.Linear(channels[2], N_CLASSES)
                return
            flat = self.features(torch.zeros(1, 3, *s["image"])).shape[1]
            self.flc = nn.Linear(flat, dense)
            if config.head == "lstm":
                self.blstm = nn.LSTM(dense, 9, num_layers=2, batch_first=True, bidirectional=True)
                self.flc2 = nn.Linear(18, N_CLASSES)
            else:
                self.flc2 = nn.Linear(dense, N_CLASSES)

        def features(self, x):
            out = self.layer3(self.layer2(self.layer1(x)))
            return out.amax(dim=(2, 3)) if config.head == "pooled" else out.flatten(1)

        def forward(self, x):
            out = self.features(x)
            if config.head == "pooled":
                return self.flc2(out)
            out = self.flc(out)
            if config.head == "lstm":
                out, _ = self.blstm(out[:, None, :])  # a sequence of length 1: nothing to remember
                out = out[:, -1, :]
            return self.flc2(out)

    return ConvNet()


def shift_and_flip(x, generator):
    """Shift each image by up to MAX_SHIFT pixels (wrapping) and mirror half of them: both keep the label."""
    import torch

    shifts = torch.randint(-MAX_SHIFT, MAX_SHIFT + 1, (len(x), 2), generator=generator)
    out = torch.stack([torch.roll(img, (int(dy), int(dx)), dims=(1, 2))
                       for img, (dy, dx) in zip(x, shifts, strict=True)])
    flip = torch.rand(len(x), generator=generator) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def lstm_saturation(model, x) -> float:
    """Share of the first LSTM layer's gate pre-activations beyond ±SATURATED (0 without an LSTM)."""
    import torch

    if not hasattr(model, "blstm"):
        return 0.0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        h = model.flc(model.features(x))
        lstm = model.blstm
        z = torch.cat([h @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + lstm.bias_hh_l0,
                       h @ lstm.weight_ih_l0_reverse.T + lstm.bias_ih_l0_reverse + lstm.bias_hh_l0_reverse], 1)
    model.train(was_training)
    return float((z.abs() > SATURATED).float().mean())


def train(config: TinyDataConfig, progress: Progress | None = None) -> History:
    import torch

    from helpers import torch_lab

    generator = torch_lab.set_seeds(config.seed)
    d = load_data(config)
    model = build_model(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=config.weight_decay, foreach=True)
    x_val, y_val = torch_lab.as_tensors(d["x_val"], d["y_val"])

    def extras(epoch: int, net) -> dict[str, float]:
        # The PyTorch slip, measured on the same weights: validation scored without model.eval().
        loss, acc = torch_lab.score(net, x_val, y_val, train_mode=True, batch_size=BATCH)
        return {"val_trainmode_loss": loss, "val_trainmode_accuracy": acc,
                "lstm_saturation": lstm_saturation(net, x_val)}

    history = torch_lab.fit(
        model, (d["x_train"], d["y_train"]), {"val": (d["x_val"], d["y_val"]), "test": (d["x_test"], d["y_test"])},
        epochs=config.epochs, optimizer=optimizer, batch_size=BATCH, generator=generator,
        augment=shift_and_flip if config.augment else None, progress=progress, on_epoch_end=extras,
    )
    history.info.update(parameters=int(sum(p.numel() for p in model.parameters())), classes=N_CLASSES)
    return history


def pretrain_data(config: TransferConfig) -> tuple[np.ndarray, np.ndarray]:
    """The related task: the same clutter and image size, PRETRAIN_CLASSES glyphs none of which is in the task."""
    from helpers.datasets import glyph_images

    s = config.sizes
    return glyph_images(config.pretrain_images, n_classes=PRETRAIN_CLASSES, size=s["image"], glyph=s["glyph"],
                        signal=SIGNAL, seed=config.seed + PRETRAIN_SEED)


def train_transfer(config: TransferConfig, progress: Progress | None = None) -> History:
    """Pre-train on the related task (its own 18-way output layer), then fine-tune everything on the task."""
    import torch
    from torch import nn

    from helpers import torch_lab

    generator = torch_lab.set_seeds(config.seed)
    model = build_model(config)
    model.flc2 = nn.Linear(model.flc2.in_features, PRETRAIN_CLASSES)
    x_pre, y_pre = torch_lab.as_tensors(*pretrain_data(config))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0, foreach=True)
    model.train()
    for _ in range(PRETRAIN_EPOCHS):
        for idx in torch.randperm(len(x_pre), generator=generator).split(BATCH):
            loss = nn.functional.cross_entropy(model(x_pre[idx]), y_pre[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    pretrain_accuracy = torch_lab.score(model, x_pre[:N_VAL * 10], y_pre[:N_VAL * 10])[1]
    model.flc2 = nn.Linear(model.flc2.in_features, N_CLASSES)  # a fresh output layer for the nine classes
    d = load_data(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=config.weight_decay, foreach=True)
    x_val, y_val = torch_lab.as_tensors(d["x_val"], d["y_val"])

    def extras(epoch: int, net) -> dict[str, float]:
        loss, acc = torch_lab.score(net, x_val, y_val, train_mode=True, batch_size=BATCH)
        return {"val_trainmode_loss": loss, "val_trainmode_accuracy": acc, "lstm_saturation": 0.0}

    history = torch_lab.fit(
        model, (d["x_train"], d["y_train"]), {"val": (d["x_val"], d["y_val"]), "test": (d["x_test"], d["y_test"])},
        epochs=config.epochs, optimizer=optimizer, batch_size=BATCH, generator=generator, progress=progress,
        on_epoch_end=extras,
    )
    history.info.update(parameters=int(sum(p.numel() for p in model.parameters())), classes=N_CLASSES,
                        pretrain_train_accuracy=pretrain_accuracy)
    return history


def train_tutorial_loop(config: TutorialLoopConfig, progress: Progress | None = None) -> History:
    """The post's network trained the way the tutorial it comes from trains it, with a per-epoch validation
    added for early stopping: ``model.eval()`` to validate, and nothing switches the model back."""
    import torch
    from torch import nn

    from helpers import torch_lab
    from helpers.runs import report_epoch

    generator = torch_lab.set_seeds(config.seed)
    d = load_data(config)
    model = build_model(config)  # a new module starts in training mode: epoch 1 trains as intended
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, foreach=True)
    x, y = torch_lab.as_tensors(d["x_train"], d["y_train"])
    splits = {name: torch_lab.as_tensors(d[f"x_{name}"], d[f"y_{name}"]) for name in ("val", "test")}
    log: dict[str, list[float]] = {}
    for epoch in range(config.epochs):
        # model.train()  # <-- the missing line: without it, every epoch after the first trains in eval mode
        seen, loss_sum, correct = 0, 0.0, 0
        for idx in torch.randperm(len(x), generator=generator).split(BATCH):
            logits = model(x[idx])
            loss = nn.functional.cross_entropy(logits, y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen, loss_sum = seen + len(idx), loss_sum + loss.item() * len(idx)
            correct += (logits.argmax(1) == y[idx]).sum().item()
        # What the loop prints, and what the post's blue curve would be: the running mean over the epoch.
        numbers = {"loss": loss_sum / seen, "accuracy": correct / seen}
        model.eval()  # the tutorial's validation: eval mode, no gradients; the model stays in eval mode after
        with torch.no_grad():
            for name, (xs, ys) in splits.items():
                out = model(xs)
                numbers[f"{name}_loss"] = nn.functional.cross_entropy(out, ys).item()
                numbers[f"{name}_accuracy"] = (out.argmax(1) == ys).float().mean().item()
        # The honest training curve, and the rivals' evidence, measured on the same weights (mode restored).
        numbers["train_eval_loss"], numbers["train_eval_accuracy"] = torch_lab.score(model, x, y)
        numbers["val_trainmode_loss"], numbers["val_trainmode_accuracy"] = torch_lab.score(
            model, *splits["val"], train_mode=True, batch_size=BATCH)
        numbers["lstm_saturation"] = lstm_saturation(model, splits["val"][0])
        for key, value in numbers.items():
            log.setdefault(key, []).append(float(value))
        report_epoch(log)
        if progress is not None:
            progress(epoch + 1, config.epochs)
    history = History(metrics=log, info={"n_train": len(x), "n_val": N_VAL, "n_test": N_TEST})
    history.info.update(parameters=int(sum(p.numel() for p in model.parameters())), classes=N_CLASSES)
    return history
