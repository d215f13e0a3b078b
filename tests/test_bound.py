"""The bound accuracy >= 1 - L / (w̄ ln 2): a property test over classes, label smoothing and weights,
and the two counter-examples its conditions exclude (focal loss, a threshold other than the argmax)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.stats import BOUND_CONDITIONS, LN2, accuracy_floor, prior_entropy


def smoothed_ce(p: np.ndarray, y: np.ndarray, eps: float) -> np.ndarray:
    k = p.shape[1]
    t = np.full_like(p, eps / k)
    t[np.arange(len(y)), y] += 1 - eps
    return -(t * np.log(p)).sum(axis=1)


@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("eps", [0.0, 0.05, 0.3, 0.9])
def test_a_wrong_sample_costs_at_least_ln2_even_label_smoothed(k: int, eps: float) -> None:
    rng = np.random.default_rng(k * 100 + int(eps * 100))
    # Random probability vectors, plus the hardest wrong ones: the true class tied with one rival near 1/2.
    p = rng.dirichlet(np.full(k, 0.3), size=20000)
    hard = np.full((2000, k), 1e-9)
    hard[:, 0] = hard[:, 1] = 0.5 - rng.uniform(0, 0.01, 2000)[:]
    hard /= hard.sum(axis=1, keepdims=True)
    p = np.clip(np.vstack([p, hard]), 1e-12, 1)
    p /= p.sum(axis=1, keepdims=True)
    y = np.zeros(len(p), dtype=int)
    wrong = p.argmax(axis=1) != y
    assert wrong.any()
    assert smoothed_ce(p[wrong], y[wrong], eps).min() >= LN2 - 1e-9


@pytest.mark.parametrize("seed", range(5))
def test_the_weighted_accuracy_obeys_the_weighted_bound(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 500
    y = rng.integers(0, 2, n)
    p1 = rng.uniform(0.01, 0.99, n)  # predicted p(y = 1), one sigmoid output
    p_true = np.where(y == 1, p1, 1 - p1)
    right = (p1 >= 0.5) == (y == 1)
    w = np.where(y == 1, 1.0, rng.uniform(0.01, 0.2))  # class_weight shrinking the majority class
    loss = np.mean(w * -np.log(p_true))
    weighted_acc = w[right].sum() / w.sum()
    assert weighted_acc >= accuracy_floor(loss, mean_weight=w.mean()) - 1e-12
    assert right.mean() >= accuracy_floor(loss, mean_weight=w.min()) - 1e-12


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5, 0.9])
def test_one_sigmoid_output_label_smoothed_as_keras_does_it(eps: float) -> None:
    # Keras's binary_crossentropy(label_smoothing=eps): target y(1 - eps) + eps/2; binary accuracy at 0.5.
    p1 = np.linspace(1e-6, 1 - 1e-6, 200001)
    for y in (0, 1):
        t = y * (1 - eps) + eps / 2
        loss = -(t * np.log(p1) + (1 - t) * np.log(1 - p1))
        wrong = (p1 > 0.5) != (y == 1)
        assert loss[wrong].min() >= LN2 - 1e-9


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5])
def test_torch_cross_entropy_with_label_smoothing_keeps_it(eps: float) -> None:
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(20000, 10, generator=generator) * 3
    y = torch.randint(0, 10, (20000,), generator=generator)
    loss = torch.nn.functional.cross_entropy(logits, y, label_smoothing=eps, reduction="none").numpy()
    wrong = (logits.argmax(1) != y).numpy()
    assert loss[wrong].min() >= LN2 - 1e-6
    accuracy = 1 - wrong.mean()
    assert accuracy >= accuracy_floor(float(loss.mean())) - 1e-9


def test_the_bound_is_tight_and_one_sided() -> None:
    # Tight: a wrong sample at p = 1/2 costs exactly ln 2. One-sided: all right at p = 0.4 (K = 10) costs
    # 0.92 > ln 2, so the floor is 0 and says nothing about that perfect accuracy.
    assert -np.log(0.5) == pytest.approx(LN2)
    assert accuracy_floor(-np.log(0.4)) == 0.0
    assert accuracy_floor(LN2) == 0.0 and accuracy_floor(0.0) == 1.0


def test_the_conditions_name_what_breaks_it() -> None:
    text = " ".join(BOUND_CONDITIONS)
    for needed in ("log-loss", "focal", "argmax", "0.5", "same forward pass", "weighted accuracy", "smallest weight"):
        assert needed in text, needed


def test_prior_entropy() -> None:
    assert prior_entropy(np.arange(10)) == pytest.approx(np.log(10))
    assert prior_entropy([0.98, 0.02], shares=True) == pytest.approx(0.0980, abs=1e-4)
    assert prior_entropy([0.98, 0.02], shares=True) < LN2
    with pytest.raises(ValueError, match="sum to 1"):
        prior_entropy([0.5, 0.6], shares=True)
    with pytest.raises(ValueError, match="integer class labels"):
        prior_entropy([0.5, 1.0])


def test_the_unweighted_accuracy_is_not_bounded_by_a_weighted_loss() -> None:
    # Every sample of a down-weighted class wrong: the weighted loss is tiny, the plain accuracy 0.02.
    n_good, n_bad, w_good = 98, 2, 0.02 / 0.98
    loss_wrong_good, loss_right_bad = np.log(2.5), 0.01
    loss = (n_good * w_good * loss_wrong_good + n_bad * loss_right_bad) / (n_good + n_bad)
    assert loss < 0.05 and 0.02 < accuracy_floor(loss)


def test_focal_loss_breaks_it() -> None:
    gamma, p = 2.0, 0.49  # a wrong sample, true class just under 1/2
    focal = -((1 - p) ** gamma) * np.log(p)
    assert focal < LN2


def test_a_threshold_other_than_one_half_breaks_it() -> None:
    p = 0.6  # true class 1 at p = 0.6 scored wrong by a 0.7 threshold: loss 0.51 < ln 2, accuracy 0
    assert -np.log(p) < LN2 and accuracy_floor(-np.log(p)) > 0


def test_bad_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="mean_weight"):
        accuracy_floor(0.1, mean_weight=0)
