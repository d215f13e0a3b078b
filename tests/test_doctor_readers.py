"""The doctor's readers on fixtures in each real format, with the quirks real files have."""

import json
from pathlib import Path

import numpy as np
import pytest

from helpers.doctor import LogError, as_history, detect_format, read_log, read_runs
from helpers.runs import History

FIXTURES = Path(__file__).resolve().parent / "data" / "doctor_fixtures"


def test_keras_csvlogger_semicolon_with_cr_cr_lf_and_old_names():
    path = FIXTURES / "keras_semicolon_crcrlf.csv"
    assert b"\r\r\n" in path.read_bytes()  # the blank rows the quirk makes
    assert detect_format(path) == "keras_csv"
    h = read_log(path)
    assert h.epoch_numbers == [1, 2, 3, 4, 5]
    assert sorted(h.metrics) == ["accuracy", "loss", "val_accuracy", "val_loss"]  # acc/val_acc mapped
    assert h["val_loss"][-1] == pytest.approx(0.8519)


def test_keras_tab_separated_any_metric_names_nan_cell_and_truncated_last_row():
    h = read_log(FIXTURES / "keras_tab_metrics.tsv")
    assert h.n_epochs == 4  # the row cut while writing is dropped, the others kept
    assert h["accuracy"][0] == 0.70 and h["val_accuracy"][0] == 0.72  # binary_accuracy → accuracy
    for kept in ("auc", "val_auc", "dice_coef", "val_dice_coef", "head_a_loss", "val_head_a_loss"):
        assert kept in h.metrics
    assert np.isnan(h["val_accuracy"][2])  # a NaN cell stays NaN, the row stays


def test_keras_appended_runs_split_where_the_epoch_restarts_and_a_resumed_run_keeps_its_numbers():
    runs = read_runs(FIXTURES / "keras_appended.csv")
    assert [h.epoch_numbers for h in runs] == [[1, 2, 3, 4], [3, 4, 5], [1, 2, 3, 4, 5, 6]]
    assert read_log(FIXTURES / "keras_appended.csv") == runs[-1]  # the last run by default
    assert read_log(FIXTURES / "keras_appended.csv", run=0).n_epochs == 4
    with pytest.raises(ValueError, match="run=7; this log holds 3"):
        read_log(FIXTURES / "keras_appended.csv", run=7)
    resumed = read_log(FIXTURES / "keras_resumed.csv")
    assert resumed.epoch_numbers == [11, 12, 13, 14]
    assert list(resumed.epochs) == [11, 12, 13, 14]


def test_keras_history_json_dict_of_lists():
    path = FIXTURES / "keras_history.json"
    assert detect_format(path) == "keras_json"
    h = read_log(path)
    assert h.n_epochs == 6 and h["val_accuracy"][3] == 0.7010  # val_sparse_categorical_accuracy mapped
    assert "learning_rate" in h.metrics


def test_lightning_metrics_csv_step_rows_lr_rows_duplicate_columns_and_test_row():
    path = FIXTURES / "lightning_metrics.csv"
    assert detect_format(path) == "lightning"
    h = read_log(path)
    assert h.epoch_numbers == [1, 2, 3, 4]  # LR-monitor rows (no epoch) and the test row add no epoch
    assert h["loss"].tolist() == [1.78, 1.12, 0.84, 0.63]  # train_loss_epoch beats the per-step values
    assert h["accuracy"].tolist() == [0.41, 0.61, 0.71, 0.79]
    assert h["val_loss"].tolist() == [1.41, 1.02, 0.90, 0.88]  # epoch 2's value is in the duplicate column
    assert not any(k.startswith("test") or k.startswith("lr") for k in h.metrics)


def test_lightning_valid_names_and_per_step_training_loss():
    h = read_log(FIXTURES / "lightning_valid_names.csv")
    assert h["loss"].tolist() == pytest.approx([0.865, 0.68, 0.59])  # epoch means of the step values
    assert h["val_loss"].tolist() == [0.84, 0.71, 0.66] and "val_r2" in h.metrics


def test_hugging_face_trainer_state_orders_by_step_and_skips_the_summary():
    path = FIXTURES / "hf_trainer_state.json"
    assert detect_format(path) == "hf"
    h = read_log(path)
    assert h.n_epochs == 3 and h.info["steps"] == [100, 200, 300]  # the epoch field resets; steps do not
    assert h["loss"].tolist() == pytest.approx([(0.693 + 0.612) / 2, (0.480 + 0.402) / 2, (0.301 + 0.220) / 2])
    assert h["val_loss"].tolist() == [0.561, 0.470, 0.412] and h["val_accuracy"][-1] == 0.81


def _write_events(folder: Path, run: str, tag: str, values, *, as_tensor: bool) -> None:
    """Event files as TensorBoard writes them: simple values (PyTorch) or scalar tensors (TF2, Keras)."""
    from helpers.doctor.readers import _event_accumulator

    _event_accumulator()  # installs the no-TensorFlow marker before tensorboard's writer loads
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    writer = EventFileWriter(str(folder / run))
    for step, v in enumerate(values):
        if as_tensor:
            plugin = summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
            meta = summary_pb2.SummaryMetadata(plugin_data=plugin)
            value = summary_pb2.Summary.Value(tag=tag, tensor=tensor_util.make_tensor_proto(float(v)), metadata=meta)
        else:
            value = summary_pb2.Summary.Value(tag=tag, simple_value=float(v))
        writer.add_event(event_pb2.Event(step=step, wall_time=1.0 + step, summary=summary_pb2.Summary(value=[value])))
    writer.close()


def test_tensorboard_keras_train_and_validation_runs(tmp_path):
    pytest.importorskip("tensorboard")
    _write_events(tmp_path, "train", "epoch_loss", [1.0, 0.6, 0.4, 0.3], as_tensor=True)
    _write_events(tmp_path, "validation", "epoch_loss", [1.1, 0.8, 0.7, 0.75], as_tensor=True)
    _write_events(tmp_path, "train", "epoch_accuracy", [0.5, 0.7, 0.8, 0.9], as_tensor=False)
    assert detect_format(tmp_path) == "tensorboard"
    h = read_log(tmp_path)
    assert h.epoch_numbers == [1, 2, 3, 4] and h.info["format"] == "tensorboard"
    assert h["val_loss"].tolist() == pytest.approx([1.1, 0.8, 0.7, 0.75])
    assert h["accuracy"].tolist() == pytest.approx([0.5, 0.7, 0.8, 0.9])
    one_file = next((tmp_path / "validation").glob("*tfevents*"))
    assert read_log(one_file) == h  # a file inside train/ or validation/ reads the whole log


def test_tensorboard_single_run_with_val_tags(tmp_path):
    pytest.importorskip("tensorboard")
    _write_events(tmp_path, "", "train_loss", [0.9, 0.5, 0.3], as_tensor=False)
    _write_events(tmp_path, "", "val_loss", [0.95, 0.7, 0.65], as_tensor=False)
    h = read_log(tmp_path)
    assert h["loss"].tolist() == pytest.approx([0.9, 0.5, 0.3])
    assert h["val_loss"].tolist() == pytest.approx([0.95, 0.7, 0.65])


def test_format_can_be_forced_and_a_wrong_one_fails_with_a_clear_error():
    assert read_log(FIXTURES / "keras_resumed.csv", format="keras_csv").n_epochs == 4
    with pytest.raises(LogError, match="log_history"):
        read_log(FIXTURES / "keras_history.json", format="hf")
    with pytest.raises(ValueError, match="format='xml'; choose 'auto' or one of keras_csv"):
        read_log(FIXTURES / "keras_history.json", format="xml")


def test_utf16_with_bom_as_powershell_writes_it(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes((FIXTURES / "keras_resumed.csv").read_text().encode("utf-16"))
    assert read_log(path).epoch_numbers == [11, 12, 13, 14]


def test_a_title_line_above_the_header_is_skipped(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("Training log of run 7\n" + (FIXTURES / "keras_resumed.csv").read_text())
    assert read_log(path).n_epochs == 4


def test_as_history_accepts_keras_history_dicts_and_history_objects():
    class KerasHistory:  # the two attributes keras.callbacks.History has
        def __init__(self) -> None:
            self.history = {"loss": [1.0, 0.5], "acc": [0.5, 0.7], "val_loss": [1.1, 0.9], "val_acc": [0.4, 0.6]}
            self.epoch = [4, 5]

    h = as_history(KerasHistory())
    assert h.epoch_numbers == [5, 6] and h["accuracy"].tolist() == [0.5, 0.7]
    plain = History(metrics={"loss": [1.0, 0.5], "val_loss": [1.0, 0.8]})
    assert as_history(plain) is plain
    with pytest.raises(ValueError, match="cannot read a history from int"):
        as_history(3)


def test_history_epoch_numbers_round_trip_and_old_entries_still_load(tmp_path):
    h = History(metrics={"loss": [1.0, 0.5]}, epoch_numbers=[11, 12])
    h.save(tmp_path / "a")
    assert History.load(tmp_path / "a") == h
    assert json.loads((tmp_path / "a" / "history.json").read_text())["epoch_numbers"] == [11, 12]
    default = History(metrics={"loss": [1.0, 0.5]})
    default.save(tmp_path / "b")
    assert "epoch_numbers" not in json.loads((tmp_path / "b" / "history.json").read_text())  # as before
    assert History.load(tmp_path / "b").epoch_numbers == [1, 2]
    csv = h.to_csv(tmp_path / "log.csv")
    assert csv.read_text().splitlines()[1].startswith("10,")  # 0-based like CSVLogger
    with pytest.raises(ValueError, match="epoch_numbers has 1 numbers for 2 epochs"):
        History(metrics={"loss": [1.0, 0.5]}, epoch_numbers=[1])


def test_a_100_000_epoch_log_reads_and_diagnoses(tmp_path):  # its time: make bench (long_log_seconds)
    from helpers.doctor import diagnose_history

    n = 100_000
    e = np.arange(n)
    t = 1 / (1 + e / 100)
    rows = ["epoch,loss,accuracy,val_loss,val_accuracy"] + [
        f"{i},{a:.6f},{1 - a / 2:.6f},{1.1 / (1 + i / 150):.6f},{0.9 - 0.4 * a:.6f}" for i, a in zip(e, t, strict=True)]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(rows))
    history = read_log(path)
    assert len(history.epochs) == n
    assert any(f.code == "GAP" for f in diagnose_history(history))


def test_keras_na_cells_of_epochs_without_validation_are_missing_values(tmp_path):
    """Keras 3's CSVLogger with validation_freq=5 writes NA where validation did not run."""
    from helpers.doctor import read_log

    rows = ["epoch,accuracy,loss,val_accuracy,val_loss"]
    rows += [f"{e},{0.5 + e / 40:.3f},{1 - e / 20:.3f}," + ("0.6,0.7" if e % 5 == 4 else "NA,NA") for e in range(10)]
    path = tmp_path / "log.csv"
    path.write_text("\n".join(rows) + "\n")
    history = read_log(path)
    val = history["val_loss"]
    assert history.n_epochs == 10 and int(np.isfinite(val).sum()) == 2 and val[4] == 0.7
