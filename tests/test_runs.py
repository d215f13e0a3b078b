import json
import warnings

import numpy as np
import pytest
import toy

from helpers import digest, runs
from helpers.runs import History, entry_path, is_cached, run


def test_bad_config_names_field_and_allowed_values():
    with pytest.raises(ValueError, match=r"rate=1\.5 .*0\.0 to 1\.0"):
        toy.ToyConfig(rate=1.5)
    with pytest.raises(ValueError, match=r"kind='c' .*'a', 'b'"):
        toy.ToyConfig(kind="c")
    with pytest.raises(ValueError, match=r"epochs=0"):
        toy.ToyConfig(epochs=0)
    with pytest.raises(ValueError, match=r"epochs=2\.5 must be an integer"):
        toy.ToyConfig(epochs=2.5)
    with pytest.raises(ValueError, match="unknown field"):
        toy.ToyConfig().replace(colour="red")


def test_configs_are_frozen_and_hash_by_value():
    a, b = toy.ToyConfig(rate=0.3), toy.ToyConfig(rate=0.3)
    assert a.cache_key() == b.cache_key()
    assert a.cache_key() != a.replace(rate=0.4).cache_key()
    with pytest.raises(AttributeError):
        a.rate = 0.9


def test_cache_key_changes_with_library_versions(monkeypatch):
    config = toy.ToyConfig()
    before = config.cache_key()
    monkeypatch.setattr(runs, "library_versions", lambda fw: {"numpy": "0.0.1"})
    assert config.cache_key() != before


def test_cache_hit_returns_identical_history_without_training(tmp_cache):
    config = toy.ToyConfig(rate=0.25)
    toy.CALLS["n"] = 0
    first = run(config)
    assert toy.CALLS["n"] == 1 and is_cached(config)
    runs.forget_memory()  # force the disk path, not the in-memory one
    second = run(config)
    assert toy.CALLS["n"] == 1
    assert second == first
    assert np.array_equal(second.arrays["per_class"], first.arrays["per_class"])
    assert (entry_path(config) / "history.json").exists()
    assert not list(tmp_cache.rglob("*.pkl"))


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: (p / "history.json").write_text("{not json"),
        lambda p: (p / "history.json").write_text(json.dumps({"format": 99})),
        lambda p: (p / "arrays.npz").write_bytes(b"PK\x03\x04garbage"),
        lambda p: np.savez(p / "arrays.npz", obj=np.array([{"a": 1}], dtype=object)),
        lambda p: (p / "arrays.npz").unlink(),
    ],
    ids=["bad-json", "wrong-format", "bad-npz", "pickled-object-array", "missing-npz"],
)
def test_corrupt_cache_entry_is_recomputed_with_a_warning(tmp_cache, damage):
    config = toy.ToyConfig(rate=0.7)
    good = run(config)
    damage(entry_path(config))
    runs.forget_memory()
    toy.CALLS["n"] = 0
    with pytest.warns(UserWarning, match="unreadable"):
        again = run(config)
    assert toy.CALLS["n"] == 1
    # Same numbers; only the wall-clock train_seconds may differ between the two trainings.
    assert again.metrics == good.metrics and again.info.keys() == good.info.keys()
    assert {k: v for k, v in again.info.items() if k != "train_seconds"} == \
        {k: v for k, v in good.info.items() if k != "train_seconds"}
    assert all(np.array_equal(again.arrays[k], good.arrays[k]) for k in good.arrays)
    runs.forget_memory()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run(config) == again  # the entry was rewritten whole (train_seconds is the retraining's)


def test_use_cache_false_trains_and_leaves_cache_alone(tmp_cache):
    config = toy.ToyConfig(rate=0.1)
    run(config, use_cache=False)
    assert not is_cached(config)


def test_progress_is_reported_per_epoch(tmp_cache):
    seen = []
    run(toy.ToyConfig(epochs=4), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_history_rejects_ragged_metrics_and_writes_keras_csv(tmp_path):
    with pytest.raises(ValueError, match="one value per epoch"):
        History(metrics={"loss": [1, 2], "val_loss": [1]})
    h = History(metrics={"loss": [0.5, 0.4], "val_loss": [0.6, 0.5]})
    text = h.to_csv(tmp_path / "log.csv").read_text().splitlines()
    assert text[0] == "epoch,loss,val_loss"
    assert text[1].startswith("0,0.5,")
    sparse = h.to_csv(tmp_path / "every_50th.csv", epochs=[1, 50]).read_text().splitlines()
    assert [line.split(",")[0] for line in sparse[1:]] == ["0", "49"]
    with pytest.raises(ValueError, match="epochs has 1 numbers for 2"):
        h.to_csv(tmp_path / "bad.csv", epochs=[1])
    with pytest.raises(KeyError, match="has"):
        h["accuracy"]


def test_run_rejects_non_configs():
    with pytest.raises(ValueError, match="RunConfig"):
        run({"epochs": 3})


def _copy_helpers(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(digest.CODE_ROOT / "helpers", tmp_path / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(digest, "CODE_ROOT", tmp_path)
    return tmp_path / "helpers"


def test_cache_key_changes_when_a_helper_the_trainer_uses_is_edited(tmp_path, monkeypatch):
    from helpers.scenarios import case03_tiny_dataset as case

    config = case.configs()["LSTM removed"]
    before = config.cache_key()
    copy = _copy_helpers(tmp_path, monkeypatch)
    assert config.cache_key() == before  # the same code in another folder is the same code
    lab = copy / "torch_lab.py"  # imported inside the trainer, not at the module's top
    source = lab.read_text()
    assert "batch_size: int = 1024," in source
    lab.write_text(source.replace("batch_size: int = 1024,", "batch_size: int = 512,"))
    assert config.cache_key() != before


def test_cache_key_ignores_comments_docstrings_figures_bands_and_measurements(tmp_path, monkeypatch):
    from helpers.scenarios import case02_batchnorm as case

    config = case.configs()["Adam, BatchNorm momentum 0.9"]
    before = config.cache_key()
    copy = _copy_helpers(tmp_path, monkeypatch)
    package = copy / "scenarios" / "case02_batchnorm"  # a package by job: each edit lands in its own file
    sources = {path: path.read_text() for path in package.glob("*.py")}
    edits = [('"""Train (logged and re-scored), val', '"""A new docstring. Train (logged and re-scored)'),
             ("def draw_panel(fig, history", "# a new comment\ndef draw_panel(fig, history"),
             ('"post_final_val_accuracy": (0.9, 1.0)', '"post_final_val_accuracy": (0.8, 1.0)'),
             ("e3 = 2  # epoch 3, 0-based", "e3 = 3  # a measurement, not a training")]
    for old, new in edits:
        (path,) = [path for path, source in sources.items() if old in source]
        path.write_text(path.read_text().replace(old, new))
    figures = package / "figures.py"
    figures.write_text(figures.read_text() + "\n\ndef draw_something_new(fig):\n    fig.suptitle('new')\n")
    assert config.cache_key() == before
    for path, source in sources.items():
        path.write_text(source)
    runs_file = package / "runs.py"
    runs_file.write_text(sources[runs_file].replace("ADAM_LR = 1e-3", "ADAM_LR = 2e-3"))
    assert config.cache_key() != before


def test_cache_key_changes_with_the_numerics(monkeypatch):
    from helpers.scenarios import case02_batchnorm, case03_tiny_dataset

    torch_config = case03_tiny_dataset.configs()["LSTM removed"]
    keras_config = case02_batchnorm.configs()["Adam, BatchNorm momentum 0.9"]
    # From a known setting, whatever this shell runs with (make test-matrix sets these too).
    monkeypatch.setenv("GAP_CLINIC_THREADS", "2")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    keys = torch_config.cache_key(), keras_config.cache_key()
    monkeypatch.setenv("GAP_CLINIC_THREADS", "1")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert torch_config.cache_key() != keys[0] and keras_config.cache_key() != keys[1]


def test_run_seeds_gives_one_history_per_seed(tmp_cache):
    histories = runs.run_seeds(toy.ToyConfig(), seeds=(0, 1, 2))
    assert len(histories) == 3 and histories[0].metrics != histories[1].metrics
    assert histories[0] == run(toy.ToyConfig())
    with pytest.raises(ValueError, match="distinct seeds"):
        runs.run_seeds(toy.ToyConfig(), seeds=(1, 1))


def test_cache_key_follows_imports_name_by_name(tmp_path, monkeypatch):
    """Case 02's trainer uses one doctor function: a doctor message is not its code, that function is."""
    from helpers.scenarios import case02_batchnorm as case

    config = case.configs()["Adam, BatchNorm momentum 0.9"]
    before = config.cache_key()
    copy = _copy_helpers(tmp_path, monkeypatch)
    checks = copy / "doctor" / "checks" / "verdict.py"
    source = checks.read_text()
    new = 'X = "a new message"\n\n\ndef check_gap(ctx: Context)'
    checks.write_text(source.replace("def check_gap(ctx: Context)", new))
    assert config.cache_key() == before
    probes = copy / "doctor" / "probes.py"
    source = probes.read_text()
    assert "framework = _framework(model)" in source
    probes.write_text(source.replace("framework = _framework(model)", "framework = _framework(model) or 'torch'"))
    assert config.cache_key() != before


def test_code_moved_to_another_file_is_the_same_code(tmp_path):
    """A module split into a package by job keeps its digest: statements count, not the files they sit in."""
    one, split = tmp_path / "one", tmp_path / "split"
    for base in (one, split):
        (base / "helpers").mkdir(parents=True)
        (base / "helpers" / "__init__.py").write_text("")
    (one / "helpers" / "case.py").write_text(
        "import numpy as np\n\nRATE = 0.5\n\n\ndef draw_it(fig):\n    pass\n\n\n"
        "def train(config):\n    return np.exp(-RATE)\n")
    (split / "helpers" / "case").mkdir()
    (split / "helpers" / "case" / "__init__.py").write_text(
        "from helpers.case.lab import train\nfrom helpers.case.figures import draw_it\n")
    (split / "helpers" / "case" / "runs.py").write_text("RATE = 0.5\n")
    (split / "helpers" / "case" / "lab.py").write_text(
        "import numpy as np\n\nfrom helpers.case.runs import RATE\n\n\ndef train(config):\n    return np.exp(-RATE)\n")
    (split / "helpers" / "case" / "figures.py").write_text("def draw_it(fig):\n    pass\n")
    before = digest.code_digest("helpers.case", roots=("train",), root=one)
    assert digest.code_digest("helpers.case", roots=("train",), root=split) == before
    (split / "helpers" / "case" / "runs.py").write_text("RATE = 0.4\n")
    assert digest.code_digest("helpers.case", roots=("train",), root=split) != before


def test_the_code_digest_reads_the_same_code_alike_on_every_supported_python() -> None:
    """What differs between 3.11, 3.12 and 3.13's ASTs for the same source must not reach the digest."""
    import ast

    from helpers.digest import canonical_dump

    source = 'def f(x, fmt="3"):\n    return f"{x:{fmt}} units"\n'
    plain = ast.parse(source).body[0]
    as_312 = ast.parse(source).body[0]
    as_312.type_params = []  # 3.12 and 3.13 add this field to every function and class
    spec = as_312.body[0].value.values[0].format_spec
    spec.values.append(ast.Constant(value=""))  # 3.12 adds an empty part to a nested format spec
    assert canonical_dump(plain) == canonical_dump(as_312)
    other = ast.parse(source.replace("units", "metres")).body[0]
    assert canonical_dump(plain) != canonical_dump(other)


def test_case01_image_folder_follows_the_code_that_draws_the_images(tmp_path, monkeypatch):
    """No DATA_VERSION to bump: the generated-image folder is named by the digest of the code that writes it."""
    from helpers.scenarios import case01_generator as case

    before = case.images_digest()
    copy = _copy_helpers(tmp_path, monkeypatch)
    assert case.images_digest() == before
    figures = copy / "scenarios" / "case01_generator" / "figures.py"
    figures.write_text(figures.read_text() + "\n\ndef draw_something_new(fig):\n    fig.suptitle('new')\n")
    assert case.images_digest() == before  # a figure is not the images
    datasets = copy / "datasets.py"
    source = datasets.read_text()
    assert "    noise: float = 0.08,\n" in source
    datasets.write_text(source.replace("    noise: float = 0.08,\n", "    noise: float = 0.09,\n"))
    assert case.images_digest() != before
    assert case.images_digest() in case.dataset_root(case.Config()).name
