"""One scorer for the labs and the doctor: cross-entropy, predicted classes, scoring that leaves the model as it was."""

import math

import numpy as np
import pytest

from helpers.scoring import cross_entropy, framework_of, predicted_classes, unchanged


def test_cross_entropy_of_probabilities_and_logits_agree():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    loss, acc = cross_entropy(probs, [0, 1], from_logits=False)
    assert loss == pytest.approx(-(math.log(0.7) + math.log(0.1)) / 2) and acc == 0.5
    assert cross_entropy(np.log(probs), [0, 1], from_logits=True) == pytest.approx((loss, acc))
    one_hot = np.eye(3)[[0, 1]]
    assert cross_entropy(probs, one_hot, from_logits=False) == pytest.approx((loss, acc))


def test_binary_cross_entropy_and_its_classes():
    p = np.array([[0.9], [0.2], [0.6]])
    loss, acc = cross_entropy(p, np.array([[1], [0], [0]]), from_logits=False)
    assert loss == pytest.approx(-(math.log(0.9) + math.log(0.8) + math.log(0.4)) / 3) and acc == pytest.approx(2 / 3)
    assert list(predicted_classes(p)) == [1, 0, 1]


def test_bad_inputs_say_what_is_needed():
    with pytest.raises(ValueError, match="one label per output row"):
        cross_entropy(np.ones((3, 2)) / 2, [0, 1], from_logits=False)
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.1"):
        cross_entropy(np.ones((2, 2)) / 2, [0, 2], from_logits=False)
    with pytest.raises(ValueError, match="Keras and PyTorch"):
        framework_of(object())


@pytest.mark.slow
def test_a_training_mode_pass_leaves_a_torch_model_as_it_was():
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2)).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with unchanged(model), torch.no_grad():
        model.train()
        model(torch.randn(64, 4) * 5 + 3)  # moves the running mean and variance
    assert not model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
