"""Small helpers: bound arithmetic, splits, imports, environment, network block."""

import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import splits
from helpers.stats import LN2, accuracy_floor, binomial_se

ROOT = Path(__file__).resolve().parents[1]


def test_accuracy_floor_is_the_cross_entropy_bound():
    assert accuracy_floor(0.0) == 1.0
    assert accuracy_floor(LN2) == pytest.approx(0.0)
    assert accuracy_floor(5.0) == 0.0
    assert accuracy_floor(0.1229) == pytest.approx(0.8227, abs=1e-4)  # the forum's epoch 1
    # brute force: random probabilities never beat the bound
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = rng.dirichlet(np.ones(5) * rng.uniform(0.1, 3), size=50)
        y = rng.integers(0, 5, 50)
        loss = -np.log(p[np.arange(50), y]).mean()
        acc = (p.argmax(1) == y).mean()
        assert acc >= accuracy_floor(loss) - 1e-12


def test_binomial_se():
    assert binomial_se(0.5, 100) == pytest.approx(0.05)
    assert binomial_se(0.2, 90) == pytest.approx(0.0422, abs=1e-4)
    with pytest.raises(ValueError, match="positive"):
        binomial_se(0.5, 0)


def test_tail_split_takes_the_last_rows():
    train, val = splits.tail_split(10, 0.2)
    assert list(val) == [8, 9] and list(train) == list(range(8))


def test_sorted_subset_split_is_lexicographic_first_share_per_class():
    names = [f"A{i}.png" for i in range(1, 21)] + [f"B{i}.png" for i in range(1, 21)]
    labels = np.array([0] * 20 + [1] * 20)
    _, val = splits.sorted_subset_split(names, labels, 0.2)
    picked = sorted(names[i] for i in val)
    assert picked == sorted(["A1.png", "A10.png", "A11.png", "A12.png", "B1.png", "B10.png", "B11.png", "B12.png"])


def test_stratified_split_keeps_class_shares():
    labels = np.array([0] * 90 + [1] * 10)
    _, val = splits.stratified_split(labels, 0.2, seed=0)
    assert (labels[val] == 1).sum() == 2 and len(val) == 20


def test_stratified_group_split_keeps_groups_whole_and_validates_every_class():
    labels = np.repeat([0, 1, 2], 24)
    groups = np.repeat(np.arange(12), 6)  # four recordings per class
    train, val = splits.stratified_group_split(groups, labels, 0.2, seed=0)
    assert not set(groups[train]) & set(groups[val])
    assert sorted(np.concatenate([train, val])) == list(range(72))
    assert [len(set(groups[val][labels[val] == k])) for k in range(3)] == [1, 1, 1]  # round(0.8) → at least one
    _, val_third = splits.stratified_group_split(np.repeat(np.arange(18), 4), np.repeat([0, 1, 2], 24), 1 / 3, 0)
    assert len(val_third) == 3 * 2 * 4  # two of six recordings per class


def test_split_fraction_is_validated():
    with pytest.raises(ValueError, match=r"val_fraction=1\.5"):
        splits.stratified_split(np.arange(10) % 2, 1.5, 0)


def test_import_helpers_pulls_in_no_framework():
    code = ("import helpers, helpers.curves, helpers.widgets, helpers.splits, helpers.datasets, "
            "helpers.scenarios.reading_curves, sys; "
            "bad = [m for m in ('tensorflow', 'torch', 'keras') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def _names(lines):
    out = {}
    for line in lines:
        line = line.strip()
        m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;#]+)", line)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_environment_yml_and_lock_name_the_same_packages():
    lock = _names((ROOT / "requirements.lock").read_text().splitlines())
    env_lines = (ROOT / "environment.yml").read_text().splitlines()
    env = _names(line.strip().lstrip("- ").strip() for line in env_lines)
    assert lock, "requirements.lock pins nothing"
    assert env == lock
    assert any(line.strip() == "- python>=3.11,<3.14" for line in env_lines)
    assert any(line.strip() == "- -e ." for line in env_lines)


def test_network_is_blocked_during_tests():
    from pytest_socket import SocketBlockedError, SocketConnectBlockedError

    # Raised before any packet leaves: a plain OSError (timeout) would mean no guard.
    with pytest.raises((SocketBlockedError, SocketConnectBlockedError)):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: never routed


def test_write_image_folder_names_files_per_class_and_reuses_a_finished_folder(tmp_path):
    from PIL import Image

    from helpers.datasets import write_image_folder

    images = np.linspace(0, 1, 5 * 4 * 4).reshape(5, 4, 4)
    labels = np.array([0, 1, 0, 1, 0])
    root = write_image_folder(tmp_path / "set", images, labels, ["A", "B"], lambda k, i: f"{'AB'[k]}{i + 1}.png")
    assert sorted(p.name for p in (root / "A").iterdir()) == ["A1.png", "A2.png", "A3.png"]
    assert sorted(p.name for p in (root / "B").iterdir()) == ["B1.png", "B2.png"]
    pixels = np.asarray(Image.open(root / "A" / "A2.png"))
    assert pixels.dtype == np.uint8 and np.array_equal(pixels, np.rint(images[2] * 255).astype("uint8"))
    (root / "A" / "A1.png").unlink()
    write_image_folder(tmp_path / "set", images, labels, ["A", "B"], lambda k, i: "x.png")  # finished: reused
    assert not (root / "A" / "A1.png").exists() and not (root / "A" / "x.png").exists()


def test_datasets_are_deterministic_per_seed():
    from helpers.datasets import production_line, prototype_images

    a, b = prototype_images(50, seed=3), prototype_images(50, seed=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], prototype_images(50, seed=4)[0])
    p, q = production_line(500, seed=1), production_line(500, seed=1)
    assert np.array_equal(p["x"], q["x"]) and np.array_equal(p["good"], q["good"])
    with pytest.raises(ValueError, match=r"bad_rate=0\.9"):
        production_line(500, bad_rate=0.9)


def test_outside_bands_reports_misses_and_unmeasured_bands():
    from helpers.scenarios import outside_bands

    bands = {"a": (0.0, 1.0), "b": (2.0, 3.0)}
    assert outside_bands({"a": 0.5, "b": 2.0}, bands) == {}
    assert outside_bands({"a": 1.5, "b": 2.5}, bands) == {"a": (1.5, (0.0, 1.0))}
    with pytest.raises(ValueError, match=r"no measurement for band\(s\) \['b'\]"):
        outside_bands({"a": 0.5}, bands)
