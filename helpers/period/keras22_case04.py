"""Case 04 in the poster's own library: standalone Keras 2.2.4 on TensorFlow 1.15, Python 3.7.

Run by ``make period`` in its own virtual environment (.venv-period), never imported by the ``helpers``
package (which needs Python >= 3.11 and Keras 3). It prints one JSON document: the library versions, the
setups, and each run's epoch log under the keys Keras 2.2 itself wrote (``acc``/``val_acc``, as in the post),
plus a few columns measured beside it. tests/test_case04_period.py reads the committed copy
(data/period/keras22_case04.json) and checks the lesson's claims about this version.

The post's network (Dense 32-64-64-1, SGD(lr=0.001) as posted, batch 32) on generated data whose labels carry
no signal: 31 standard-normal parameters, exactly 2 % of parts bad, at random rows. Every network is then
uninformative, which is the premise of the class-weight fingerprint the lesson tests:
with ``class_weight={0: 1, 1: w}``, ``w = b / (1 - b)``, the best constant output is 0.5, the weighted training
loss 2 b ln 2 and the unweighted validation loss ln 2.

Usage: python helpers/period/keras22_case04.py [OUT.json]   (default: print to stdout)
"""
import json
import math
import os
import platform
import random
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONHASHSEED", "0")

import numpy as np

ROWS = 10000
VAL_FRACTION = 0.2
BAD_RATE = 0.02  # the share the post's first acc/val_acc (0.0207, 0.0168) suggests
GOOD_WEIGHT = BAD_RATE / (1 - BAD_RATE)  # 'balanced' class weights with bad parts at 1
EPOCHS = 30
LR = 0.001  # the post: optimizers.SGD(lr=0.001)
BATCH = 32
SEEDS = (0, 1, 2)


def make_data(seed):
    """31 standard-normal parameters; exactly BAD_RATE of the parts bad (label 0), at random rows: no signal."""
    rng = np.random.RandomState(seed)
    x = rng.normal(size=(ROWS, 31)).astype("float32")
    good = np.ones(ROWS, dtype="float32")
    good[rng.permutation(ROWS)[: round(BAD_RATE * ROWS)]] = 0.0
    return x, good


def build(metric, seed):
    """The post's model, compiled as posted except for the metric (fresh graph, fixed seeds, one thread)."""
    import keras
    import tensorflow as tf
    from keras import backend as K
    from keras import optimizers
    from keras.layers import Dense
    from keras.models import Sequential

    K.clear_session()
    random.seed(seed)
    np.random.seed(seed)
    tf.set_random_seed(seed)
    K.set_session(tf.Session(graph=tf.get_default_graph(), config=tf.ConfigProto(
        intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)))
    model = Sequential()
    model.add(Dense(32, activation="relu", input_shape=(31,)))
    model.add(Dense(64, activation="relu"))
    model.add(Dense(64, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    sgd = optimizers.SGD(lr=LR)
    model.compile(optimizer=sgd, loss="binary_crossentropy", metrics=[metric])
    assert model.count_params() == 7361 and keras.__version__
    return model


def exact_metric():
    """Rival (a) as far as Keras 2.2 allows: keras.metrics.Accuracy does not exist before 2.3, so a home-made
    exact-equality metric. Named ``acc``, it prints as ``acc``/``val_acc``, the post's keys."""
    from keras import backend as K

    def acc(y_true, y_pred):
        return K.mean(K.cast(K.equal(y_true, y_pred), K.floatx()))

    return acc


SETUPS = {
    "post: 'accuracy', unweighted, validation_split": {"metric": "accuracy", "weighted": False, "val": "split"},
    "(a) exact-equality acc, unweighted, validation_split": {"metric": "exact", "weighted": False, "val": "split"},
    "(b) class_weight, validation_split": {"metric": "accuracy", "weighted": True, "val": "split"},
    "(b) class_weight, validation_data (unweighted)": {"metric": "accuracy", "weighted": True, "val": "data"},
}


def train(setup, seed):
    import keras

    x, y = make_data(seed)
    n_train = int(ROWS * (1 - VAL_FRACTION))  # Keras 2.2 splits at int(len * (1 - validation_split))
    model = build(exact_metric() if setup["metric"] == "exact" else "accuracy", seed)
    extra = {"train_unweighted_loss": [], "val_mean_output": [], "val_share_above_half": [],
             "val_share_saturated": []}

    class Rescore(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            p_train = model.predict(x[:n_train], batch_size=1024)[:, 0]
            eps = 1e-7  # Keras 2.2's clip in binary_crossentropy
            q = np.clip(p_train, eps, 1 - eps)
            yt = y[:n_train]
            extra["train_unweighted_loss"].append(float(np.mean(-(yt * np.log(q) + (1 - yt) * np.log(1 - q)))))
            p = model.predict(x[n_train:], batch_size=1024)[:, 0]
            extra["val_mean_output"].append(float(p.mean()))
            extra["val_share_above_half"].append(float(np.mean(p > 0.5)))
            extra["val_share_saturated"].append(float(np.mean((p == 0.0) | (p == 1.0))))

    kwargs = {"epochs": EPOCHS, "batch_size": BATCH, "verbose": 0, "callbacks": [Rescore()]}
    if setup["weighted"]:
        kwargs["class_weight"] = {0: 1.0, 1: GOOD_WEIGHT}
    if setup["val"] == "split":
        history = model.fit(x, y, validation_split=VAL_FRACTION, **kwargs)
    else:  # the same rows, passed separately: Keras 2.2 gives validation_data no class weights
        history = model.fit(x[:n_train], y[:n_train], validation_data=(x[n_train:], y[n_train:]), **kwargs)
    log = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    log.update(extra)
    return log, {"train_bad_rate": float(1 - y[:n_train].mean()), "val_bad_rate": float(1 - y[n_train:].mean())}


def weighting_check(seed=0):
    """Keras 2.2's own arithmetic on the fingerprint's network: every output exactly 0.5, scored with and without
    the class weights (as sample weights) on the training rows; nothing trains."""
    x, y = make_data(seed)
    n_train = int(ROWS * (1 - VAL_FRACTION))
    model = build("accuracy", seed)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])  # all zeros: sigmoid(0) = 0.5 everywhere
    w = np.where(y[:n_train] == 1, GOOD_WEIGHT, 1.0)
    weighted = model.evaluate(x[:n_train], y[:n_train], sample_weight=w, batch_size=1024, verbose=0)
    plain = model.evaluate(x[:n_train], y[:n_train], batch_size=1024, verbose=0)
    return {"metrics_names": list(model.metrics_names), "output": 0.5,
            "weighted_loss": float(weighted[0]), "weighted_acc": float(weighted[1]),
            "unweighted_loss": float(plain[0]), "unweighted_acc": float(plain[1]),
            "mean_weight": float(w.mean()), "train_bad_rate": float(1 - y[:n_train].mean())}


def main(argv):
    import keras
    import keras.metrics
    import tensorflow as tf

    out = {
        "format": 1,
        "script": "helpers/period/keras22_case04.py",
        "versions": {"python": platform.python_version(), "keras": keras.__version__,
                     "tensorflow": tf.__version__, "numpy": np.__version__},
        "keras_metrics_has_Accuracy": hasattr(keras.metrics, "Accuracy"),
        "setup": {"rows": ROWS, "val_fraction": VAL_FRACTION, "bad_rate": BAD_RATE, "good_weight": GOOD_WEIGHT,
                  "epochs": EPOCHS, "lr": LR, "batch_size": BATCH, "seeds": list(SEEDS), "ln2": math.log(2),
                  "labels": "no signal: 31 standard-normal parameters, bad rows drawn at random",
                  "model": "Dense 32-64-64-1 (relu, sigmoid), SGD(lr=0.001), binary_crossentropy, 7361 params"},
        "weighting_check": weighting_check(),
        "runs": {},
    }
    for name, setup in SETUPS.items():
        out["runs"][name] = {"setup": setup, "seeds": {}}
        for seed in SEEDS:
            log, info = train(setup, seed)
            out["runs"][name]["seeds"][str(seed)] = {"history": log, **info}
            last = {k: round(v[-1], 4) for k, v in log.items() if k in ("loss", "acc", "val_loss", "val_acc")}
            print(f"{name} seed {seed}: {last}", file=sys.stderr)
    text = json.dumps(out, indent=1, sort_keys=True) + "\n"
    if len(argv) > 1:
        with open(argv[1], "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
