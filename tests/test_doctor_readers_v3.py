"""Issue 35, item 8: pasted Keras console output, TensorBoard folders of several runs, LiveDoctor with
validation_freq > 1."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers.doctor import LiveDoctor, codes, detect_format, diagnose_history, main, read_log, read_runs

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "doctor_fixtures"
FORUM_CONSOLE = FIXTURES / "forum_003_console.txt"  # the post's own printed lines (attribution in the file)
FORUM_CSV = ROOT / "data" / "forum" / "003_a8ebacd39794dcdb_log.csv"
SEEDS = Path("/work/shared/seeds")


def test_the_posts_pasted_console_output_reads_as_its_committed_log():
    assert detect_format(FORUM_CONSOLE) == "keras_console"
    pasted, typed = read_log(FORUM_CONSOLE), read_log(FORUM_CSV)
    assert pasted.epoch_numbers == [1, 50, 100, 150, 200, 250, 300] == typed.epoch_numbers
    for k in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert pasted[k].tolist() == pytest.approx(typed[k].tolist())


def test_the_doctor_says_on_the_pasted_post_what_notebook_04_says(capsys):
    # Notebook 04: the accuracy metric is not what it seems (an impossible pair) and the tail split's
    # validation comes from another period; the same codes as on the committed CSV.
    found = codes(diagnose_history(FORUM_CONSOLE, loss="binary_crossentropy"), at_least="warn")
    assert {"METRIC_INCONSISTENT", "POPULATION_SHIFT"} <= found
    assert found == codes(diagnose_history(FORUM_CSV, loss="binary_crossentropy"), at_least="warn")
    assert main([str(FORUM_CONSOLE), "--loss", "binary_crossentropy"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("METRIC_INCONSISTENT error: training accuracy 0.0155 is impossible at loss 0.0563 (epoch 50)")


def test_console_output_from_standard_input_keras_3_progress_bars_and_a_restart():
    text = ("Epoch 1/3\r\n\x1b[1m20/20\x1b[0m ━━━━ 1s 3ms/step - accuracy: 0.51 - loss: 0.69\r"
            "20/20 ━━━━ 2s 5ms/step - accuracy: 0.55 - loss: 0.68 - val_accuracy: 0.52 - val_loss: 0.69\n"
            "Epoch 2/3\n20/20 ━━━━ 0s 3ms/step - accuracy: 0.70 - loss: 0.55 - val_accuracy: 0.66 - val_loss: 0.60\n"
            "Epoch 3/3\n20/20 ━━━━ 0s 3ms/step - accuracy: 0.80 - loss: 0.45 - val_accuracy: 0.70 - val_loss: 0.58\n"
            "Epoch 1/2\n - 0s - loss: 0.9 - acc: 0.5 - val_loss: 0.9 - val_acc: 0.5\n"
            "Epoch 2/2\n - 0s - loss: 0.7 - acc: 0.6 - val_loss: 0.8 - val_acc: 0.55\n")
    out = subprocess.run([sys.executable, "-m", "helpers.doctor", "-", "--all"], input=text.encode(),
                         capture_output=True, cwd=ROOT)
    assert out.returncode in (0, 1), out.stderr
    assert "run 1 of 2 (epochs 1–3)" in out.stdout.decode() and "run 2 of 2 (epochs 1–2)" in out.stdout.decode()
    bad = subprocess.run([sys.executable, "-m", "helpers.doctor", "-"], input=b"hello", capture_output=True, cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.decode().startswith("error: stdin: ")


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the forum seeds live outside the repository")
@pytest.mark.parametrize("post", ["000", "001", "002", "003", "004"])
def test_each_posts_own_text(post, capsys):
    path = next(SEEDS.glob(f"{post}_*.txt"))
    status = main([str(path), "--loss", "binary_crossentropy" if post == "003" else "sparse_categorical_crossentropy"])
    if post == "003":  # the one post that printed its log
        assert status == 1 and "METRIC_INCONSISTENT" in capsys.readouterr().out
    else:  # the others show curves as images: one line, exit 2
        assert status == 2 and "not a training log" in capsys.readouterr().err


def _events(folder: Path, run: str, tag: str, values) -> None:
    from test_doctor_readers import _write_events

    _write_events(folder, run, tag, values, as_tensor=True)


def test_two_tensorboard_runs_in_one_folder_are_never_merged(tmp_path, capsys):
    pytest.importorskip("tensorboard")
    e = np.arange(1, 13)
    over_val = 0.5 + 0.02 * (e - 4) ** 2 / 4
    _events(tmp_path, "20260101-000000/train", "epoch_loss", 2 * np.exp(-e / 3))
    _events(tmp_path, "20260101-000000/validation", "epoch_loss", over_val)
    _events(tmp_path, "20260102-000000/train", "epoch_loss", 1.0 * np.exp(-e / 6) + 0.3)
    _events(tmp_path, "20260102-000000/validation", "epoch_loss", 1.0 * np.exp(-e / 6) + 0.33)
    runs = read_runs(tmp_path)
    assert [h.info["run"] for h in runs] == ["20260101-000000", "20260102-000000"]
    assert runs[0]["val_loss"].tolist() == pytest.approx(over_val.tolist())
    assert main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("2 runs in this folder (20260101-000000, 20260102-000000); "
                                              "diagnosing the last")
    assert main([str(tmp_path), "--all"]) == 1
    first = capsys.readouterr().out.split("\n\n")[0]
    assert first.startswith("run 1 of 2 20260101-000000") and "OVERFITTING" in first


def test_live_doctor_pairs_each_validation_with_its_own_epoch_when_validation_freq_is_2():
    e = np.arange(1, 21)
    train = 2 * np.exp(-e / 4)
    val = 0.5 + 0.02 * (e - 8) ** 2 / 8
    doctor = LiveDoctor(printer=lambda line: None)
    for i in range(20):
        logs = {"loss": train[i]} | ({"val_loss": val[i]} if (i + 1) % 2 == 0 else {})
        doctor.update(logs)
    logs = doctor.logs
    assert np.isnan(logs["val_loss"][0]) and logs["val_loss"][1] == val[1] and logs["loss"][19] == train[19]
    over = next(f for f in diagnose_history(logs) if f.code == "OVERFITTING")
    assert over.evidence["best_epoch"] == 8 and "OVERFITTING" in doctor.seen
