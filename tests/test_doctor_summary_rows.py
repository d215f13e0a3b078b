"""A row with no training and no validation number is not an epoch (issue 35, the unseen batch's reader bug).

A Lightning metrics.csv whose last row holds only test metrics (``Final F1 Score``, ``test_loss``) was read as one
more epoch of NaN, and the doctor called the run DIVERGED. The same flaw is checked in every reader: such a row is
dropped, while an epoch whose loss was *written* as NaN stays an epoch (a diverged run is still diverged).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from helpers.doctor import codes, diagnose_history, read_log

FIXTURES = Path(__file__).resolve().parent / "data" / "doctor_fixtures"
FINAL_TEST_ROW = FIXTURES / "lightning_final_test_row.csv"


def test_lightning_final_test_row_is_not_an_epoch_and_not_a_divergence():
    h = read_log(FINAL_TEST_ROW)
    assert h.epoch_numbers == [1, 2, 3, 4, 5]
    assert h["loss"].tolist() == [0.72, 0.51, 0.40, 0.33, 0.29]
    assert h["val_loss"].tolist() == [0.61, 0.48, 0.42, 0.40, 0.39]
    assert set(h.metrics) == {"loss", "val_loss"}  # the one-off summary column goes with its row
    assert h.info["dropped_rows"] == 1
    assert "DIVERGED" not in codes(diagnose_history(h))


def test_lightning_epoch_with_a_written_nan_loss_stays_an_epoch(tmp_path):
    text = FINAL_TEST_ROW.read_text().replace(",4,499,,0.29,", ",4,499,,nan,").replace(",4,499,,,0.39", ",4,499,,,nan")
    path = tmp_path / "metrics.csv"
    path.write_text(text)
    h = read_log(path)
    assert h.epoch_numbers == [1, 2, 3, 4, 5] and np.isnan(h["loss"][-1]) and np.isnan(h["val_loss"][-1])
    assert "DIVERGED" in codes(diagnose_history(h))


def test_keras_csv_rows_without_train_or_validation_numbers_are_dropped_written_nan_kept(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss,val_loss,lr\n0,0.9,0.95,0.01\n1,0.6,0.7,0.01\n2,nan,nan,0.01\n3,,,0.001\n")
    h = read_log(path)
    assert h.epoch_numbers == [1, 2, 3]  # the lr-only row goes; epoch 3's written NaN stays
    assert np.isnan(h["loss"][-1]) and h["lr"].tolist() == [0.01, 0.01, 0.01]
    path.write_text("epoch,loss,val_loss,test_acc\n0,0.9,0.95,\n1,0.6,0.7,\n2,0.5,0.65,\n,,,0.81\n")
    h = read_log(path)
    assert h.epoch_numbers == [1, 2, 3] and h["val_loss"].tolist() == [0.95, 0.7, 0.65]
    assert "DIVERGED" not in codes(diagnose_history(h))


def test_keras_metric_pairs_other_than_loss_count_as_curves(tmp_path):
    path = tmp_path / "log.csv"  # a regression log: mae with val_mae, no accuracy; the last row a test summary
    path.write_text("epoch,loss,mae,val_loss,val_mae,final_r2\n0,1.0,0.8,1.1,0.85,\n1,0.7,0.6,0.8,0.7,\n"
                    "2,0.5,0.5,0.7,0.65,\n,,,,,0.71\n")
    h = read_log(path)
    assert h.epoch_numbers == [1, 2, 3] and "final_r2" not in h.metrics and h["val_mae"][-1] == 0.65


def test_keras_json_null_padding_is_not_an_epoch(tmp_path):
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"loss": [0.9, 0.6, 0.5, None], "val_loss": [1.0, 0.8, 0.7, None],
                                "lr": [0.1, 0.1, 0.1, 0.01]}))
    h = read_log(path)
    assert h.n_epochs == 3 and h["lr"].tolist() == [0.1, 0.1, 0.1]
    path.write_text('{"loss": [0.9, 0.6, NaN], "val_loss": [1.0, 0.8, NaN]}')  # NaN written: a diverged epoch
    assert read_log(path).n_epochs == 3


def test_hf_final_summary_and_an_evaluation_without_a_curve_are_not_evaluations(tmp_path):
    log = [{"epoch": 0.5, "step": 50, "loss": 0.69}, {"epoch": 0.5, "step": 50, "eval_loss": 0.60, "eval_runtime": 1.0},
           {"epoch": 1.0, "step": 100, "loss": 0.50}, {"epoch": 1.0, "step": 100, "eval_loss": 0.52},
           {"epoch": 1.0, "step": 100, "loss": 0.45}, {"epoch": 1.0, "step": 100, "eval_loss": 0.50},
           # after training: a model-preparation timing logged as an evaluation, then the Trainer's summary
           {"epoch": 1.0, "step": 100, "eval_model_preparation_time": 0.003},
           {"epoch": 1.0, "step": 100, "train_runtime": 12.0, "train_loss": 0.55, "total_flos": 1.0}]
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"log_history": log}))
    h = read_log(path)
    assert h.info["steps"] == [50, 100, 100] and h["val_loss"].tolist() == [0.60, 0.52, 0.50]
    assert h["loss"].tolist() == pytest.approx([0.69, 0.50, 0.45])
    assert "DIVERGED" not in codes(diagnose_history(h))


def test_keras_console_evaluation_line_after_fit_is_not_an_epoch(tmp_path):
    path = tmp_path / "fit.txt"
    path.write_text("Epoch 1/3\n10/10 - 1s - loss: 0.90 - accuracy: 0.55 - val_loss: 0.95 - val_accuracy: 0.50\n"
                    "Epoch 2/3\n10/10 - 1s - loss: 0.60 - accuracy: 0.70 - val_loss: 0.70 - val_accuracy: 0.66\n"
                    "Epoch 3/3\n10/10 - 1s - loss: 0.50 - accuracy: 0.76 - val_loss: 0.66 - val_accuracy: 0.69\n"
                    "4/4 - 0s - loss: 0.64 - accuracy: 0.70\n")
    h = read_log(path)
    assert h.epoch_numbers == [1, 2, 3] and h["loss"].tolist() == [0.90, 0.60, 0.50]


def test_tensorboard_step_holding_only_a_summary_scalar_is_not_an_epoch(tmp_path):
    pytest.importorskip("tensorboard")
    from helpers.doctor.readers import _event_accumulator

    _event_accumulator()  # installs the no-TensorFlow marker before tensorboard's writer loads
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(tmp_path))
    points = [(s, "train_loss", v) for s, v in enumerate([0.9, 0.6, 0.45, 0.4])]
    points += [(s, "val_loss", v) for s, v in enumerate([0.95, 0.7, 0.6, 0.58])]
    points += [(9, "hp_metric", 0.87)]  # Lightning's hp_metric, written once after the last epoch
    for step, tag, v in points:
        value = summary_pb2.Summary.Value(tag=tag, simple_value=v)
        writer.add_event(event_pb2.Event(step=step, wall_time=1.0 + step, summary=summary_pb2.Summary(value=[value])))
    writer.close()
    h = read_log(tmp_path)
    assert h["loss"].tolist() == pytest.approx([0.9, 0.6, 0.45, 0.4]) and "hp_metric" not in h.metrics
    assert h.n_epochs == 4 and "DIVERGED" not in codes(diagnose_history(h))
