"""Case 03: a tiny dataset — memorisation, the learning curve, the PyTorch traps and the fixes, measured."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bands import band_suite
from post_cells import assert_post_model_matches

from helpers import doctor
from helpers.datasets import glyph_images
from helpers.runs import History, run
from helpers.scenarios import case03_tiny_dataset as case

pytestmark = pytest.mark.slow
STALLED, TRUNK = case.STALLED, case.TRUNK
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_tiny_dataset.ipynb"

(_all_runs, measured, reference_measured, reference_claims, each_seed_measured, reference_runs, each_seed_runs,
 test_every_reference_seed_holds_the_claim, test_this_machine_holds_the_claim,
 test_this_machine_lands_in_the_reference_spread) = band_suite(case)


@pytest.fixture(scope="module")
def runs(reference_runs):
    """Seed 0 of the story runs (configs()) and of the posted network without Dropout (the post's symptom) retrained
    here; the rest of seed 0 (the learning curve, all three fixes, the stalled BiLSTM head, the posted network with
    Dropout) read from the committed reference: a sample, so the suite's training time stays."""
    retrained = {**case.configs(), case.NO_DROPOUT: case.configs_with_extras()[case.NO_DROPOUT]}
    return {**reference_runs[0], **{name: run(config) for name, config in retrained.items()}}


def test_the_issue_thresholds(each_seed_measured):
    measured = each_seed_measured
    # 0. The posted network with one change (Dropout removed) shows the post's symptom: training at the post's 98-100 %
    # at some epoch of its last 50, validation and test at its 15-20 % (within 90 images' noise); as posted, with
    # Dropout, it does not memorise: training stays below 0.8 and no gap like the post's opens.
    assert measured["no_dropout_peak_train_accuracy"] >= 0.9
    assert measured["no_dropout_val_accuracy"] <= 0.3 and measured["no_dropout_test_accuracy"] <= 0.35
    assert measured["posted_peak_train_accuracy"] < 0.8
    assert measured["no_dropout_train_minus_val"] > measured["posted_train_minus_val"] + 0.3
    # 1. Memorisation at n = 630 (on the trunk with layer 3 widened and the LSTM removed).
    assert measured["trunk_train_accuracy"] >= 0.95
    assert measured["trunk_train_minus_val"] >= 0.4  # validation 0.18–0.49 over seeds: far below training
    # 2. More data, the same number of updates: from 630 to 5 040 images validation climbs by ≥ 0.15 (0.23–0.36
    # over seeds; 8 epochs leave it still climbing) to ≥ 4× chance.
    assert measured["learning_curve_total_gain"] >= 0.15 and measured["largest_n_val_accuracy"] >= 4 / case.N_CLASSES
    # 3. Shuffled labels are memorised as well as real ones.
    assert measured["shuffled_train_accuracy"] >= 0.9 and measured["shuffled_val_accuracy"] <= 0.2
    # 4. Removing the LSTM does not hurt; it only ever added parameters.
    assert measured["lstm_removed_val_gain"] >= 0 and measured["lstm_extra_parameters"] > 0
    # 5. Each fix improves validation accuracy; the best combination by ≥ 10 points, on the test set too.
    for fix in case.FIXES:
        assert measured[f"{fix.replace(' ', '_')}_val_gain"] > 0, fix
    assert measured["best_fix_val_gain"] >= 0.10 and measured["best_fix_test_gain"] >= 0.10
    # 6. Transfer from other glyphs helps, and by less than the best combination.
    assert measured["transfer_val_gain"] > 0 and measured["transfer_val_gain"] < measured["best_fix_val_gain"]
    # Early stopping on val loss with the post's patience keeps an epoch from before anything was learnt: it
    # cannot add what the run never had (the notebook's departure, measured).
    assert measured["early_stopping_val_gain"] <= 0.05


def test_the_learning_curve_is_one_pool():
    """Each training set is a prefix of the next, validation is the same 90 images for every size."""
    small, large = (case.load_data(case.TinyDataConfig(n_train=n)) for n in (630, 1260))
    assert np.array_equal(small["x_train"], large["x_train"][:630])
    assert np.array_equal(small["x_val"], large["x_val"]) and np.array_equal(small["x_test"], large["x_test"])
    assert len(small["y_val"]) == len(small["y_test"]) == 90


def test_glyph_images_prefix_range_and_determinism():
    a, ya = glyph_images(12, seed=3)
    b, yb = glyph_images(30, seed=3)
    assert a.shape == (12, 3, 16, 16) and a.dtype == np.float32 and ya.dtype == np.int64
    assert np.array_equal(a, b[:12]) and np.array_equal(ya, yb[:12])
    assert 0 <= a.min() and a.max() <= 1
    assert not np.array_equal(a, glyph_images(12, seed=4)[0])
    with pytest.raises(ValueError, match="glyph"):
        glyph_images(4, size=8, glyph=9)


def test_glyph_is_the_only_class_signal():
    """Without clutter and noise each image is its class glyph (or its mirror) on grey, somewhere."""
    from helpers.datasets import glyph_shapes

    x, y = glyph_images(20, clutter=0.0, noise=0.0, signal=1.0, seed=0)
    shapes = glyph_shapes()
    for image, label in zip(x[:, 0], y, strict=True):
        rows, cols = np.nonzero(np.abs(image - 0.5) > 1e-6)
        patch = (image[rows.min() : rows.min() + 5, cols.min() : cols.min() + 5] - 0.5) / 0.15
        assert np.allclose(patch, shapes[label], atol=1e-5) or np.allclose(patch, shapes[label][:, ::-1], atol=1e-5)


def test_shuffled_labels_keep_images_and_histogram():
    real, shuffled = case.load_data(case.TinyDataConfig()), case.load_data(case.TinyDataConfig(shuffled_labels=True))
    assert np.array_equal(real["x_train"], shuffled["x_train"])
    assert np.array_equal(np.bincount(real["y_train"]), np.bincount(shuffled["y_train"]))
    assert np.mean(real["y_train"] == shuffled["y_train"]) < 0.25
    assert np.array_equal(real["y_val"], shuffled["y_val"])  # only training labels are broken


def test_augmentation_keeps_each_image_up_to_a_shift_and_a_mirror():
    import torch

    x = torch.as_tensor(case.load_data(case.TinyDataConfig())["x_train"][:16])
    out = case.shift_and_flip(x, torch.Generator().manual_seed(0))
    for original, moved in zip(x, out, strict=True):
        candidates = [torch.roll(img, (dy, dx), dims=(1, 2)) for img in (original, original.flip(2))
                      for dy in range(-case.MAX_SHIFT, case.MAX_SHIFT + 1)
                      for dx in range(-case.MAX_SHIFT, case.MAX_SHIFT + 1)]
        assert any(torch.equal(moved, c) for c in candidates)


def test_the_lstm_sees_a_sequence_of_length_one_and_only_adds_parameters():
    import torch

    post, trunk = (case.build_model(case.TinyDataConfig(head=h)) for h in ("lstm", "linear"))
    seen = {}
    post.blstm.register_forward_hook(lambda module, inputs, output: seen.update(shape=inputs[0].shape))
    post.eval()(torch.zeros(4, 3, 16, 16))
    assert seen["shape"] == (4, 1, 1024)  # batch, sequence length 1, features
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(post) > count(trunk) > count(case.build_model(case.TinyDataConfig(head="pooled")))


def test_forum_scale_has_the_posts_shape():
    import torch

    config = case.PostedNetConfig(scale="forum")
    model = case.build_model(config)
    assert model.flc.in_features == 8 * 16 * 32 and model.flc.out_features == 1024  # the post's Linear(4096, 1024)
    assert model.blstm.hidden_size == 9 and model.blstm.num_layers == 2 and model.blstm.bidirectional
    assert model.eval()(torch.zeros(1, 3, *config.sizes["image"])).shape == (1, 9)


def test_scoring_without_eval_leaves_the_model_as_it_was():
    import torch

    from helpers import torch_lab

    torch_lab.set_seeds(0)
    model = case.build_model(case.TinyDataConfig(head="linear"))
    x, y = torch.rand(64, 3, 16, 16), torch.randint(0, 9, (64,))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    eval_scores = torch_lab.score(model, x, y)
    train_scores = torch_lab.score(model, x, y, train_mode=True, batch_size=16)
    assert train_scores != eval_scores  # dropout and batch statistics change the number ...
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # ... and touch nothing
    assert torch_lab.score(model, x, y) == eval_scores


def test_early_stop_on_val_loss():
    h = History(metrics={"val_loss": np.array([3.0, 2.0, 2.5, 2.6, 1.9, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6])})
    assert case.early_stop(h, patience=5) == (10, 5)
    assert case.early_stop(h, patience=20) == (12, 5)


def test_doctor_reads_the_runs(each_seed_runs):
    def findings(name):
        return doctor.diagnose_history(each_seed_runs[name], n_classes=9, val_size=90)

    def codes(name):
        return doctor.codes(findings(name), at_least="warn")

    assert "NOTHING_LEARNT" in codes(STALLED)  # the BiLSTM head: not overfitting, not learning at all
    # The memorising trunk: validation loss turns up (seed 0), or validation still creeps up while the gap to
    # training keeps widening (seeds 1, 2): either way the doctor names it, and never as nothing learnt.
    gap = next(f for f in findings(TRUNK) if f.code == "GAP").evidence
    assert "OVERFITTING" in codes(TRUNK) or (gap["trend"] == "widening" and gap["gap_last"] >= 0.2)
    assert "NOTHING_LEARNT" not in codes(TRUNK)
    assert not {"VAL_AT_CHANCE", "NOTHING_LEARNT", "OVERFITTING"} & codes(case.BEST)


def test_bad_knobs_name_the_allowed_values():
    with pytest.raises(ValueError, match=r"n_train=100 .*315, 630"):
        case.TinyDataConfig(n_train=100)
    with pytest.raises(ValueError, match=r"head='gru' .*'lstm', 'linear', 'pooled'"):
        case.TinyDataConfig(head="gru")
    with pytest.raises(ValueError, match=r"dropout"):
        case.TinyDataConfig(dropout=0.9)
    with pytest.raises(ValueError, match=r"weight_decay"):
        case.TinyDataConfig(weight_decay=-0.1)


def test_panel_redraws_from_cache_and_the_eval_toggle_retrains_nothing(runs):
    from helpers.widgets import FixPanel

    panel = FixPanel(case.knobs(), case.make_config, case.draw_panel, view=("model_eval",))
    assert panel.last_was_cached and panel.config == case.configs()[TRUNK]
    panel.controls["model_eval"].value = False
    assert panel.last_was_cached and panel.config == case.configs()[TRUNK]
    panel.set(head="pooled", weight_decay=case.WEIGHT_DECAY, model_eval=True)
    assert panel.last_was_cached and panel.config == case.configs()[case.BEST]


def test_the_case_never_imports_tensorflow():
    code = ("import sys; from helpers.scenarios import case03_tiny_dataset as c; from helpers import widgets, doctor;"
            "c.train(c.TinyDataConfig(n_train=315, epochs=1)); assert 'tensorflow' not in sys.modules, 'tf'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_the_notebooks_post_cell_builds_the_posted_network():
    import torch

    torch.manual_seed(0)
    assert_post_model_matches(NOTEBOOK, case.build_model(case.PostedNetConfig()), {})


def test_the_posted_network_keeps_the_posts_layers():
    model = case.build_model(case.PostedNetConfig())
    conv3 = model.layer3[0]
    assert conv3.out_channels == 8 and conv3.kernel_size == (2, 2) and conv3.padding == (1, 1)
    assert model.flc.in_features == 8 * 2 * 2 and model.flc.out_features == 1024
    assert model.blstm.hidden_size == 9 and model.blstm.num_layers == 2 and model.blstm.bidirectional
    assert (model.flc2.in_features, model.flc2.out_features) == (18, 9)


def test_the_related_task_shares_no_glyph_and_no_image_with_the_task():
    from helpers.datasets import glyph_shapes

    task, related = glyph_shapes(case.N_CLASSES), glyph_shapes(case.PRETRAIN_CLASSES)
    distance = np.abs(task[:, None] - related[None]).max(axis=(2, 3))
    mirrored = np.abs(task[:, None] - related[None, :, :, ::-1]).max(axis=(2, 3))
    assert min(distance.min(), mirrored.min()) > 0.5  # no glyph of the task (or its mirror) is in the related task
    config = case.TransferConfig(pretrain_images=1260)
    x_pre, y_pre = case.pretrain_data(config)
    d = case.load_data(config)
    assert len(x_pre) == 1260 and set(np.unique(y_pre)) == set(range(case.PRETRAIN_CLASSES))
    pool = np.concatenate([d["x_train"], d["x_val"], d["x_test"]]).reshape(-1, 3 * 16 * 16)
    assert not (x_pre[:200].reshape(200, 1, -1) == pool[None]).all(axis=2).any()
    with pytest.raises(ValueError, match="pretrain_images"):
        case.TransferConfig(pretrain_images=100)
    with pytest.raises(ValueError, match="head"):
        case.TransferConfig(head="lstm")
