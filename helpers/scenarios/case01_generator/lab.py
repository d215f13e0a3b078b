"""Case 01, data, model and training: what the cache key hashes (the image folders, the generators, the CNN)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from helpers.runs import History, Progress, cache_dir
from helpers.scenarios.case01_generator.runs import (
    BACKGROUND,
    BATCH,
    PASSES,
    SIGNAL,
    SIGNER,
    TEST_RECORDINGS,
    VAL_FRACTION,
    GeneratorConfig,
)

# --- data on disk ------------------------------------------------------------------


def file_name(class_name: str, index: int) -> str:
    """The ASL set's naming: the class, then the frame number, unpadded (A1, A2 … A10 …)."""
    return f"{class_name}{index + 1}.png"


def frame_number(path: str | Path) -> int:
    """1-based frame number from a file name such as ``B117.png``."""
    stem = Path(path).stem
    return int(stem[len(stem.rstrip("0123456789")):])


def recording_of(path: str | Path, frames_per_recording: int) -> int:
    """Which of its class's recordings a training file comes from (0-based)."""
    return (frame_number(path) - 1) // frames_per_recording


def images_digest() -> str:
    """Hash of the code that writes the images (``write_dataset`` and what it reaches: the sign recordings, the
    sizes, the folder layout). It names their folder, so an edit to that code writes new images; nothing to bump."""
    from helpers.digest import code_digest

    return code_digest(__name__, roots=("write_dataset",))


def dataset_root(config: GeneratorConfig) -> Path:
    return cache_dir() / "images" / f"case01-{config.scale}-seed{config.seed}-{images_digest()}"


def write_dataset(config: GeneratorConfig) -> dict[str, Path]:
    """The training folder (``train/A/A1.png …``) and the test folder, written once per scale and seed."""
    from helpers.datasets import sign_recordings, write_image_folder

    s, names = config.sizes, config.class_names
    root = dataset_root(config)
    folders = {"train": root / "train", "test": root / "test"}
    common = {"size": s["image"], "signal": SIGNAL,
              "background": BACKGROUND, "signer": SIGNER}
    if not (folders["train"] / ".complete").exists():
        film = sign_recordings(s["classes"], s["recordings"], s["frames"], seed=config.seed, **common)
        labels = np.repeat(film["label"], s["frames"])
        write_image_folder(folders["train"], film["frames"].reshape(-1, s["image"], s["image"]), labels, names,
                           lambda k, i: file_name(names[k], i))
    if not (folders["test"] / ".complete").exists():
        new = sign_recordings(s["classes"], TEST_RECORDINGS, s["test_frames"], seed=config.seed + 10_000, **common)
        labels = np.repeat(new["label"], s["test_frames"])
        write_image_folder(folders["test"], new["frames"].reshape(-1, s["image"], s["image"]), labels, names,
                           lambda k, i: f"{names[k]}_test{i + 1}.png")
    return folders


def split_files(config: GeneratorConfig) -> tuple[list[Path], list[Path]]:
    """Training and validation files of the training folder, as the config's split assigns them."""
    from helpers import splits

    folders = write_dataset(config)
    files = sorted(folders["train"].glob("*/*.png"))
    labels = np.array([config.class_names.index(f.parent.name) for f in files])
    names = [f.name for f in files]
    if config.split == "none":
        return files, []
    if config.split == "sorted":
        train, val = splits.sorted_subset_split(names, labels, VAL_FRACTION)
    elif config.split == "random":
        train, val = splits.stratified_split(labels, VAL_FRACTION, config.seed)
    else:  # a fifth of each class's recordings, at least one: one of four in the mini set
        groups = np.array(recording_ids(files, config))
        train, val = splits.stratified_group_split(groups, labels, VAL_FRACTION, config.seed)
    return [files[i] for i in sorted(train)], [files[i] for i in sorted(val)]


def split_folders(config: GeneratorConfig) -> dict[str, Path]:
    """``train/`` and ``val/`` folders of links for a random or by-recording split (the fix's folder layout)."""
    root = dataset_root(config) / f"split-{config.split}"
    if not (root / ".complete").exists():
        train, val = split_files(config)
        shutil.rmtree(root, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root.parent))
        for side, files in (("train", train), ("val", val)):
            for f in files:
                target = tmp / side / f.parent.name / f.name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(f, target)
        (tmp / ".complete").write_text("ok\n")
        tmp.rename(root)
    return {"train": root / "train", "val": root / "val"}


def load_images(files: list[Path], class_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Files as a float array in [0, 1] (N × H × W × 1) and integer labels from their folders."""
    from PIL import Image

    x = np.stack([np.asarray(Image.open(f), dtype="float32") / 255.0 for f in files])[..., None]
    y = np.array([class_names.index(Path(f).parent.name) for f in files], dtype="int64")
    return x, y


def load_data(config: GeneratorConfig) -> dict:
    """The folders on disk (``train_dir``: one folder per sign, as the ASL set; ``test_dir``: the new signers),
    and the config's split of the training folder and the test folder as arrays (x in [0, 1], integer y)."""
    train, val = split_files(config)
    names = config.class_names
    out: dict = {"train_dir": str(write_dataset(config)["train"]), "test_dir": str(write_dataset(config)["test"])}
    for side, files in (("train", train), ("val", val),
                        ("test", sorted(write_dataset(config)["test"].glob("*/*.png")))):
        if files:
            out[f"x_{side}"], out[f"y_{side}"] = load_images(files, names)
    return out


# --- pipelines -------------------------------------------------------------------------


def image_data_generator_class():
    """The legacy ``tf.keras`` ImageDataGenerator (needs scipy and pillow)."""
    from helpers import keras_lab  # its import silences TensorFlow's native start-up lines

    return keras_lab.tf.keras.preprocessing.image.ImageDataGenerator


def augmenting_generator(config: GeneratorConfig, validation_split: float = 0.0):
    """The post's ``train_datagen`` (its ranges from the config)."""
    ImageDataGenerator = image_data_generator_class()
    return ImageDataGenerator(rescale=1.0 / 255, shear_range=config.shear, zoom_range=config.zoom,
                              horizontal_flip=config.flip, validation_split=validation_split)


def legacy_iterators(config: GeneratorConfig):
    """(training, validation) iterators built the way the config says."""
    ImageDataGenerator = image_data_generator_class()

    s = config.sizes
    flow = {"target_size": (s["image"], s["image"]), "color_mode": "grayscale", "class_mode": "categorical",
            "batch_size": BATCH, "classes": config.class_names, "seed": config.seed}
    rescale_only = ImageDataGenerator(rescale=1.0 / 255, validation_split=VAL_FRACTION)
    if config.split == "none":  # the final model: every file trains, nothing is held out
        return augmenting_generator(config).flow_from_directory(write_dataset(config)["train"], **flow), None
    if config.split == "sorted":
        source = write_dataset(config)["train"]
        augmenting = augmenting_generator(config, VAL_FRACTION)
        train = augmenting.flow_from_directory(source, subset="training", **flow)
        if config.augment_validation:
            val = augmenting.flow_from_directory(source, subset="validation", **flow)
        else:  # its own generator, every file once, in order
            val = rescale_only.flow_from_directory(source, subset="validation", shuffle=False, **flow)
    else:
        folders = split_folders(config)
        augmenting = augmenting_generator(config)
        train = augmenting.flow_from_directory(folders["train"], **flow)
        if config.augment_validation:
            val = augmenting.flow_from_directory(folders["val"], **flow)
        else:
            val = ImageDataGenerator(rescale=1.0 / 255).flow_from_directory(folders["val"], shuffle=False, **flow)
    return train, val


def augmentation_layers(config: GeneratorConfig) -> list:
    """Keras layers doing what the legacy generator's ranges do (shear converted from degrees)."""
    from helpers.keras_lab import keras

    L = keras.layers
    layers = []
    if config.shear:
        layers.append(L.RandomShear(x_factor=float(np.tan(np.deg2rad(config.shear))), fill_mode="nearest",
                                    seed=config.seed))
    if config.zoom:
        layers.append(L.RandomZoom(config.zoom, config.zoom, fill_mode="nearest", seed=config.seed + 1))
    if config.flip:
        layers.append(L.RandomFlip("horizontal", seed=config.seed + 2))
    return layers


def modern_datasets(config: GeneratorConfig):
    """(training, validation) tf.data pipelines; augmentation mapped onto both when the config says so."""
    import tensorflow as tf

    from helpers.keras_lab import keras

    s = config.sizes
    read = {"color_mode": "grayscale", "image_size": (s["image"], s["image"]), "batch_size": BATCH,
            "label_mode": "categorical", "class_names": config.class_names, "seed": config.seed}
    if config.split == "none":
        train = keras.utils.image_dataset_from_directory(write_dataset(config)["train"], **read)
        files = {"train": list(train.file_paths), "val": []}
        train = train.cache().map(lambda x, y: (x / 255.0, y))
        return train.prefetch(tf.data.AUTOTUNE), None, files
    if config.split == "random":
        source = write_dataset(config)["train"]
        train = keras.utils.image_dataset_from_directory(source, validation_split=VAL_FRACTION, subset="training",
                                                         **read)
        val = keras.utils.image_dataset_from_directory(source, validation_split=VAL_FRACTION, subset="validation",
                                                       **read)
    else:
        folders = split_folders(config)
        train = keras.utils.image_dataset_from_directory(folders["train"], **read)
        val = keras.utils.image_dataset_from_directory(folders["val"], shuffle=False, **read)
    files = {"train": list(train.file_paths), "val": list(val.file_paths)}
    # Decoded images are cached once; what follows the cache runs every epoch.
    train, val = train.cache(), val.cache()
    if config.augment_validation:
        augment = keras.Sequential(augmentation_layers(config))

        def mapped(x, y):
            return augment(x / 255.0, training=True), y

        train = train.map(mapped, num_parallel_calls=1)
        val = val.map(mapped, num_parallel_calls=1)
    else:
        train, val = (d.map(lambda x, y: (x / 255.0, y)) for d in (train, val))
    return train.prefetch(tf.data.AUTOTUNE), val.prefetch(tf.data.AUTOTUNE), files


def build_model(config: GeneratorConfig):
    """The post's CNN; in the modern right way the augmentation layers come first (inactive at inference)."""
    from helpers.keras_lab import keras

    L = keras.layers
    s = config.sizes
    front = augmentation_layers(config) if config.api == "modern" and not config.augment_validation else []
    model = keras.Sequential([
        keras.Input((s["image"], s["image"], 1)),
        *front,
        L.Conv2D(32, 3, activation="relu"),
        L.MaxPooling2D(2),
        L.Conv2D(64, 3, activation="relu"),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dense(32, activation="relu"),
        L.Dense(s["classes"], activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def recording_ids(files: list[Path], config: GeneratorConfig) -> list[str]:
    """``class/recording`` for each training-folder file: the groups a split must keep whole."""
    return [f"{Path(f).parent.name}/{recording_of(f, config.sizes['frames'])}" for f in files]


def train(config: GeneratorConfig, progress: Progress | None = None) -> History:
    with quiet():
        return _train(config, progress)


@contextlib.contextmanager
def quiet():
    """Keras's "Found N images" lines and retracing notices off the notebook (errors still raise)."""
    import logging

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        level = logging.getLogger("tensorflow").level
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        try:
            yield
        finally:
            logging.getLogger("tensorflow").setLevel(level)


def _train(config: GeneratorConfig, progress: Progress | None = None) -> History:
    from helpers import keras_lab

    keras_lab.set_seeds(config.seed)
    model = build_model(config)
    names = config.class_names
    if config.api == "legacy":
        train_data, val_data = legacy_iterators(config)
        files = {"train": train_data.filepaths, "val": val_data.filepaths if val_data is not None else []}
        # The post's steps: samples // batch drops the remainder, so its shuffled validation reads a different
        # subset of the files each epoch. And in Keras 3, a steps_per_epoch one batch short of the iterator's length
        # does not reset the iterator between epochs: every second epoch trains on the one batch left over (the
        # post's 960 files are 15 full batches, so the post is unaffected; 900 files would not be). The fixed
        # pipeline reads every batch of both, every epoch (steps_per_epoch and validation_steps left to Keras).
        steps = {}
        if config.augment_validation:
            steps = {"steps_per_epoch": train_data.samples // BATCH, "validation_steps": val_data.samples // BATCH}
    else:
        train_data, val_data, files = modern_datasets(config)
        steps = {}
    test_files = sorted(write_dataset(config)["test"].glob("*/*.png"))
    rescore = {"train_eval": load_images(files["train"], names), "test": load_images(test_files, names)}
    if files["val"]:
        rescore["val_clean"] = load_images(files["val"], names)
    scores = keras_lab.InferenceScores(rescore, progress)
    history = keras_lab.fit(model, train_data, epochs=config.epochs, validation=val_data, callbacks=[scores],
                            **steps)
    # The same final weights, validation scored several times through the pipeline validation used.
    passes = [keras_lab.evaluate(model, val_data)["accuracy"] for _ in range(PASSES)] if files["val"] else []
    k = config.sizes["classes"]
    # The last epoch's predictions are the final weights' predictions: no second pass over the test set.
    # Recording ids let an error bar count recordings, not frames (frames of one recording are near-duplicates).
    history.arrays.update(val_pipeline_passes=np.array(passes, dtype=float),
                          test_true=rescore["test"][1], test_predicted=scores.predicted["test"],
                          test_recording=np.array([new_signer_recording(f, config) for f in test_files]))
    if files["val"]:
        history.arrays.update(val_true=rescore["val_clean"][1], val_predicted=scores.predicted["val_clean"],
                              val_recording=np.array([recording_of(f, config.sizes["frames"]) for f in files["val"]]))
    history.info.update(n_train=len(files["train"]), n_val=len(files["val"]), n_test=len(test_files), classes=k,
                        parameters=int(model.count_params()))
    return history


def new_signer_recording(path: str | Path, config: GeneratorConfig) -> int:
    """Which of its class's new-signer recordings a test file comes from (``A_test27.png`` -> 1 at 20 frames)."""
    return (frame_number(path) - 1) // config.sizes["test_frames"]
