"""Case 01 — the broken validation generator: ASL-style image folders through Keras (legacy and modern).

Forum case: Cross Validated 565961. The post feeds
``subset='training'`` and ``subset='validation'`` from one ``ImageDataGenerator(rescale,
shear_range=0.2, zoom_range=0.2, horizontal_flip=True, validation_split=0.2)`` into
Conv32 → Pool → Conv64 → Pool → Flatten → Dense32 → Dense(K) softmax, Adam 1e-3, batch 64.

Miniature: 10 signs (A–J) filmed as slowly drifting recordings, several per sign, files
named ``A1.png … A120.png`` as the ASL set names its frames. No sign is the mirror image of
another (no two static ASL letters are): a flipped frame is the same sign made with the other
hand, which none of the new signers uses. The test folder holds new recordings per sign (other
signers, other backgrounds), like the ASL set's separate test folder.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.runs import LAST, History, Progress, RunConfig, cache_dir, run
from helpers.validate import check_bool, check_choice

SCALES = ("mini", "forum")
APIS = ("legacy", "modern")
SPLITS = ("sorted", "random", "recording", "none")  # none: every file trains (the final model)
SHEARS = (0.2, 10.0, 20.0)  # degrees: ImageDataGenerator's shear_range is an angle in degrees
ZOOMS = (0.0, 0.1, 0.2, 0.3)
VAL_FRACTION = 0.2
BATCH = 64
PASSES = 4  # validation passes through its own pipeline after training, same weights
DATA_VERSION = 2  # bump when the generated images change
SIGNAL = 1.0  # the hand shape's amplitude
BACKGROUND = 0.5  # each recording's background, relative to the hand
SIGNER = 0.7  # how far each recording's signer deforms the class shape, relative to it
TEST_RECORDINGS = 2  # per class: new signers, new backgrounds
FORUM_CLASSES = [*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "del", "nothing", "space"]


@dataclass(frozen=True)
class GeneratorConfig(RunConfig):
    """One training of the post's CNN on the sign folders.

    api: "legacy" (``ImageDataGenerator.flow_from_directory``) or "modern"
    (``image_dataset_from_directory`` + augmentation layers);
    augment_validation: legacy — validation flows from the augmenting generator (the
    post) or from a rescale-only one; modern — augmentation ``ds.map``-ped onto both
    splits (wrong) or layers inside the model, active only in training (right);
    flip: ``horizontal_flip``; shear (degrees), zoom: the augmentation ranges;
    split: "sorted" (the legacy ``subset`` split: each folder's sorted first 20 %),
    "random" (random files), "recording" (whole recordings to validation) or "none" (no validation:
    every recording trains, the final model once the settings are chosen).
    """

    epochs: int = 10
    api: str = "legacy"
    augment_validation: bool = True
    flip: bool = True
    shear: float = 0.2
    zoom: float = 0.2
    split: str = "sorted"
    scale: str = "mini"

    trainer = "helpers.scenarios.case01_generator:train"
    framework = "keras"

    def validate(self) -> None:
        super().validate()
        check_choice("api", self.api, APIS)
        check_bool("augment_validation", self.augment_validation)
        check_bool("flip", self.flip)
        check_choice("shear", self.shear, SHEARS)
        check_choice("zoom", self.zoom, ZOOMS)
        check_choice("split", self.split, SPLITS)
        check_choice("scale", self.scale, SCALES)
        if self.api == "modern" and self.split == "sorted":
            raise ValueError("split='sorted' is the legacy generator's subset split; image_dataset_from_directory "
                             "shuffles before it splits. With api='modern' choose split='random', 'recording' "
                             "or 'none'.")
        if self.split == "none" and self.augment_validation:
            raise ValueError("split='none' trains on every file and has no validation to augment; "
                             "set augment_validation=False.")

    @property
    def sizes(self) -> dict:
        if self.scale == "mini":
            return {"classes": 10, "recordings": 4, "frames": 30, "test_frames": 20, "image": 24}
        # 29 folders × 3 recordings × 1 000 frames = the ASL set's 87 000 images at its 64×64.
        return {"classes": 29, "recordings": 3, "frames": 1000, "test_frames": 20, "image": 64}

    @property
    def class_names(self) -> list[str]:
        return FORUM_CLASSES[: self.sizes["classes"]] if self.scale == "forum" else list("ABCDEFGHIJ")


FINAL_LEGACY = "legacy, retrained on every recording"
FLIP_ON_RECORDING = "modern, by recording, flip on"
FINAL = "final: modern, retrained on every recording"


def configs(scale: str = "mini") -> dict[str, GeneratorConfig]:
    """The runs the notebook tells its story with."""
    check_choice("scale", scale, SCALES)
    post = GeneratorConfig(scale=scale)
    return {
        "the post": post,
        "the post without flip": post.replace(flip=False),
        "legacy, every fix": post.replace(flip=False, augment_validation=False, split="recording"),
        "modern, done right": post.replace(api="modern", flip=False, augment_validation=False, split="recording"),
        # Settings chosen on the split by recording (the modern pipeline validates higher there), then retrained
        # on every recording: the model to ship. The legacy one is the same step in the other pipeline.
        FINAL_LEGACY: post.replace(flip=False, augment_validation=False, split="none"),
        FINAL: post.replace(api="modern", flip=False, augment_validation=False, split="none"),
    }


MAPPED = "modern, augmentation mapped onto both splits"


RANDOM = "random file split"


def configs_with_extras(scale: str = "mini") -> dict[str, GeneratorConfig]:
    """configs() plus runs the panel offers (a random file split; the wrong modern pipeline, MAPPED)."""
    post = GeneratorConfig(scale=scale)
    return {
        **configs(scale),
        RANDOM: post.replace(flip=False, augment_validation=False, split="random"),
        FLIP_ON_RECORDING: post.replace(api="modern", augment_validation=False, split="recording"),
        MAPPED: post.replace(api="modern", split="random"),
    }


Config = GeneratorConfig
# The post's own numbers (as the question states them): folder sizes, image size, classes.
POSTED = {"n_train": 69600, "n_val": 17400, "n_test": 35, "classes": 29, "image_side": 64, "channels": 1}


def reference_configs(scale: str = "mini") -> dict[str, GeneratorConfig]:
    """Every run a claim rests on (the story's runs; the extras are the panel's to try)."""
    return configs(scale)


# What the notebook's words claim, one band each; every reference seed (data/reference) and every
# retrain on a student's machine must land inside (tests/bands.py).
BANDS: dict[str, tuple[float, float]] = {
    # The post's symptom: training (logged) ends above validation (logged) on every seed; new signers below both.
    "post_train_minus_logged_val": (0.05, 0.45),
    "post_logged_val_minus_test": (0.03, 0.35),
    # Validation through the augmenting generator: the same weights read differently on each pass (randomness
    # reaches validation); the mean shift against the files as they are is a few points, of either sign.
    "post_val_pass_spread": (0.005, 0.12),
    "post_clean_minus_augmented_val": (-0.08, 0.12),
    # horizontal_flip=True: costs new signers on every seed, a little ...
    "flip_cost_test": (0.0, 0.25),
    # ... and switching only the flip off shrinks the gap between the logged curves on every seed.
    "unflipped_train_minus_logged_val": (-0.02, 0.2),
    "flip_share_of_post_gap": (0.02, 0.4),
    # Frames shared across the split: validation far above new signers, the largest effect of the case.
    "sorted_val_minus_test": (0.15, 0.55),
    "sorted_optimism_beyond_honest": (0.05, 0.55),  # sorted (val − test) minus the by-recording |val − test|
    # The fixes: validation read once, deterministically, from the files; whole recordings to validation.
    "fixed_val_pass_spread": (0.0, 0.0),
    "fixed_logged_minus_clean_val": (0.0, 0.001),  # the logged val_accuracy is the files' score, every epoch
    "modern_logged_minus_clean_val": (0.0, 0.001),
    "recording_abs_val_minus_test": (0.0, 0.2),
    "modern_abs_val_minus_test": (0.0, 0.2),
    # ... and validation agrees with new signers within two standard errors counted in recordings.
    "recording_disagreement_in_errors": (0.0, 2.0),
    "modern_disagreement_in_errors": (0.0, 2.0),
    # Choosing the flip: on the post's own validation (leaky, but the same frames with the flip on and off) the
    # flip costs validation on every seed. Choosing the pipeline on the split by recording: the modern one
    # validates at least as high as the legacy one, fits its training files further and scores higher on new
    # signers, on every seed.
    "flip_cost_val": (0.03, 0.45),
    "modern_minus_legacy_val": (0.0, 0.3),
    "modern_minus_legacy_train": (0.02, 0.3),
    "modern_minus_legacy_test": (0.01, 0.2),
    # The final model (modern, flip off, retrained on every recording): never below the post on new signers by
    # more than noise, and above it on average (asserted in the tests); a few points from the post without flip;
    # the fourth recording adds nothing measurable in the modern pipeline, a few points in the legacy one.
    "final_test": (0.4, 0.85),
    "final_minus_post_test": (-0.03, 0.2),
    "final_minus_unflipped_test": (-0.08, 0.05),
    "final_minus_recording_test": (-0.08, 0.06),
    "legacy_retrain_gain_test": (-0.02, 0.25),
}


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


def dataset_root(config: GeneratorConfig) -> Path:
    return cache_dir() / "images" / f"case01-{config.scale}-seed{config.seed}-v{DATA_VERSION}"


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
        # subset of the files each epoch. The fixed pipeline reads every validation file once.
        steps = {"steps_per_epoch": train_data.samples // BATCH}
        if config.augment_validation:
            steps["validation_steps"] = val_data.samples // BATCH
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


# --- measurements -------------------------------------------------------------------




def recording_accuracy(history: History, side: str) -> tuple[float, float, int]:
    """Accuracy of the final weights on ``side`` ("val" or "test"), its standard error counted in recordings, and
    how many recordings: frames of one recording are near-duplicates, so 300 frames of 10 recordings are not 300
    independent tries. The error is the spread of the per-recording accuracies over the square root of their
    number (each recording is one sign made by one signer)."""
    true, predicted = history.arrays[f"{side}_true"], history.arrays[f"{side}_predicted"]
    groups = history.arrays[f"{side}_recording"] * 1000 + true  # a recording is (sign, recording number)
    per = np.array([np.mean(predicted[groups == g] == true[groups == g]) for g in np.unique(groups)])
    return float(np.mean(predicted == true)), float(per.std(ddof=1) / np.sqrt(len(per))), len(per)


def measure(histories: dict[str, History] | None = None) -> dict[str, float]:
    """The numbers behind each claim, from whichever of the mini runs are given (default: reference_configs())."""
    h = histories or {name: run(c) for name, c in reference_configs().items()}

    def passes(name: str) -> np.ndarray:
        return h[name].arrays["val_pipeline_passes"]

    def spread(name: str) -> float:
        return float(np.ptp(passes(name)))

    def clean_minus_passes(name: str) -> float:  # same final weights: rescale-only against the pipeline's mean
        return float(h[name]["val_clean_accuracy"][-1] - np.mean(passes(name)))

    def test(name: str) -> float:
        return h[name].final("test_accuracy", LAST)

    def val_minus_test(name: str) -> float:
        return h[name].final("val_clean_accuracy", LAST) - test(name)

    def logged_minus_clean(name: str) -> float:  # worst epoch: does val_accuracy report the files' score?
        return float(np.max(np.abs(h[name]["val_accuracy"] - h[name]["val_clean_accuracy"])))

    def disagreement_in_errors(name: str) -> float:  # |val − test| of the final weights over its recording error
        val, val_se, _ = recording_accuracy(h[name], "val")
        new, new_se, _ = recording_accuracy(h[name], "test")
        return abs(val - new) / float(np.hypot(val_se, new_se))

    out = {}
    if "the post" in h:
        post = h["the post"]
        out.update(post_val_pass_spread=spread("the post"),
                   post_clean_minus_augmented_val=clean_minus_passes("the post"),
                   post_train_minus_logged_val=post.final("accuracy", LAST) - post.final("val_accuracy", LAST),
                   post_logged_val_minus_test=post.final("val_accuracy", LAST) - test("the post"))
    if {"the post", "the post without flip"} <= set(h):
        out["flip_cost_test"] = test("the post without flip") - test("the post")
        out["flip_cost_val"] = (h["the post without flip"].final("val_clean_accuracy", LAST)
                                - h["the post"].final("val_clean_accuracy", LAST))
        unflipped = h["the post without flip"]
        out["unflipped_train_minus_logged_val"] = (unflipped.final("accuracy", LAST)
                                                   - unflipped.final("val_accuracy", LAST))
        # How much of the post's gap between the logged curves goes when only the flip goes.
        out["flip_share_of_post_gap"] = out["post_train_minus_logged_val"] - out["unflipped_train_minus_logged_val"]
        out["sorted_val_minus_test"] = val_minus_test("the post without flip")
    if "legacy, every fix" in h:
        out.update(fixed_val_pass_spread=spread("legacy, every fix"),
                   fixed_logged_minus_clean_val=logged_minus_clean("legacy, every fix"),
                   recording_abs_val_minus_test=abs(val_minus_test("legacy, every fix")),
                   recording_disagreement_in_errors=disagreement_in_errors("legacy, every fix"))
    if "modern, done right" in h:
        out.update(modern_logged_minus_clean_val=logged_minus_clean("modern, done right"),
                   modern_abs_val_minus_test=abs(val_minus_test("modern, done right")),
                   modern_disagreement_in_errors=disagreement_in_errors("modern, done right"))
    if {"legacy, every fix", "modern, done right"} <= set(h):
        out["modern_minus_legacy_train"] = (h["modern, done right"].final("train_eval_accuracy", LAST)
                                            - h["legacy, every fix"].final("train_eval_accuracy", LAST))
        out["modern_minus_legacy_test"] = test("modern, done right") - test("legacy, every fix")
    if {"sorted_val_minus_test", "recording_abs_val_minus_test"} <= set(out):
        out["sorted_optimism_beyond_honest"] = out["sorted_val_minus_test"] - out["recording_abs_val_minus_test"]
    if {FLIP_ON_RECORDING, "modern, done right"} <= set(h):  # the flip, judged on the split by recording
        out["flip_cost_recording_val"] = (h["modern, done right"].final("val_clean_accuracy", LAST)
                                          - h[FLIP_ON_RECORDING].final("val_clean_accuracy", LAST))
        out["flip_cost_recording_test"] = test("modern, done right") - test(FLIP_ON_RECORDING)
    if {"legacy, every fix", "modern, done right"} <= set(h):  # choosing on the split by recording
        out["modern_minus_legacy_val"] = (h["modern, done right"].final("val_clean_accuracy", LAST)
                                          - h["legacy, every fix"].final("val_clean_accuracy", LAST))
    if FINAL in h:
        out["final_test"] = test(FINAL)
        if "modern, done right" in h:  # the same pipeline and settings, four recordings of each sign instead of three
            out["final_minus_recording_test"] = test(FINAL) - test("modern, done right")
        if "the post" in h:
            out["final_minus_post_test"] = test(FINAL) - test("the post")
        if "the post without flip" in h:
            out["final_minus_unflipped_test"] = test(FINAL) - test("the post without flip")
    if {FINAL_LEGACY, "legacy, every fix"} <= set(h):
        out["legacy_retrain_gain_test"] = test(FINAL_LEGACY) - test("legacy, every fix")
    if RANDOM in h:
        out["random_val_minus_test"] = val_minus_test(RANDOM)
    if MAPPED in h:
        out["mapped_val_pass_spread"] = spread(MAPPED)
    return out


def span(values) -> str:
    """Mean and seed range, as the notebook prints every number: ``0.52 (0.41 to 0.72)``."""
    from helpers.stats import spread

    got = spread(list(values))
    return f"{got.mean:.2f} ({got.low:.2f} to {got.high:.2f})"


SIDES = {"training, logged": "accuracy", "validation, logged": "val_accuracy",
         "training files, re-scored": "train_eval_accuracy", "validation files, rescale only": "val_clean_accuracy",
         "new signers (test folder)": "test_accuracy"}


def seed_table(reference_runs: list[dict[str, History]], names: tuple[str, ...]) -> str:
    """One line per run: each accuracy of its last epochs, mean and range over the reference seeds."""
    lines = [f"{len(reference_runs)} seeds, mean (min to max) of the last {LAST} epochs"]
    for name in names:
        cells = [f"{side} {span(r[name].final(metric, LAST) for r in reference_runs)}"
                 for side, metric in SIDES.items() if metric in reference_runs[0][name]]
        lines.append(f"{name}:\n    " + "\n    ".join(cells))
    return "\n".join(lines)


# What each measured difference means, in words (the notebook prints these, never the claim names).
EFFECTS = {
    "post_train_minus_logged_val": "the post: training minus validation, as logged",
    "unflipped_train_minus_logged_val": "the post without flip: training minus validation, as logged",
    "flip_share_of_post_gap": "the gap the flip adds (the two lines above, subtracted)",
    "flip_cost_val": "flip off minus on, the post's own split: validation files",
    "flip_cost_recording_val": "flip off minus on, split by recording: validation",
    "flip_cost_recording_test": "flip off minus on, split by recording: new signers",
    "modern_minus_legacy_val": "modern minus legacy, split by recording: validation",
    "modern_minus_legacy_train": "modern minus legacy, split by recording: training files re-scored",
    "modern_minus_legacy_test": "modern minus legacy, split by recording: new signers",
    "final_minus_post_test": "final minus the post: new signers",
    "final_minus_unflipped_test": "final minus the post without flip: new signers",
    "final_minus_recording_test": "final minus modern by recording (4 recordings against 3): new signers",
    "legacy_retrain_gain_test": "the same retrain in the legacy pipeline: new signers",
}


def effects(claims: dict, names: tuple[str, ...]) -> str:
    """One line per effect: mean and seed range, then each seed."""
    return "\n".join(f"{span(claims[n].values):>22s}  per seed {' '.join(f'{v:+.2f}' for v in claims[n].values)}"
                      f"  {EFFECTS[n]}" for n in names)


def out_of_band(measured: dict[str, float]) -> dict[str, tuple[float, tuple[float, float]]]:
    """Each measured number outside its band, with the band (only the numbers given are checked)."""
    from helpers.scenarios import outside_bands

    return outside_bands(measured, {k: BANDS[k] for k in measured})


# --- pictures --------------------------------------------------------------------------


def plot_accuracy(ax, history: History, title: str = "") -> None:
    """Train (logged and re-scored), validation as logged and rescale-only, and the new-signer test."""
    from helpers.curves import COLORS, draw_chance, plot_curves

    plot_curves(history, ax, "accuracy", splits=("test",), title=title)
    x = history.epochs
    if "val_accuracy" in history:
        ax.plot(x, history["val_accuracy"], ":", color=COLORS["val"], marker="o", markersize=2.5,
                label="validation, through its pipeline (logged)")
        ax.plot(x, history["val_clean_accuracy"], "-", color=COLORS["val"], label="validation files, rescale only")
    draw_chance(ax, 1 / int(history.info.get("classes", 10)))
    ax.legend(fontsize=6.5, loc="upper left")


def draw_live_post(fig, logged: dict[str, list[float]], reference_runs: list[dict[str, History]]) -> None:
    """The post's cell, as Keras logged it, over the reference seeds' range of the same two curves."""
    from helpers.curves import COLORS, annotate_epoch, draw_chance

    ax = fig.subplots()
    for metric, color, label in (("accuracy", COLORS["train"], "training accuracy (logged)"),
                                 ("val_accuracy", COLORS["val"], "validation accuracy (logged)")):
        seeds = np.array([r["the post"][metric] for r in reference_runs])
        x = np.arange(1, seeds.shape[1] + 1)
        ax.fill_between(x, seeds.min(0), seeds.max(0), color=color, alpha=0.15, linewidth=0,
                        label=f"{label}: range over {len(seeds)} reference seeds")
        live = np.asarray(logged[metric])
        ax.plot(np.arange(1, len(live) + 1), live, "-o", color=color, markersize=3, label=f"{label}: this run")
    draw_chance(ax, 1 / 10)
    live_gap = np.asarray(logged["accuracy"]) - np.asarray(logged["val_accuracy"])
    at = int(np.argmax(live_gap)) + 1
    annotate_epoch(ax, at, float(logged["val_accuracy"][at - 1]),
                   f"epoch {at}: training {live_gap[at - 1]:.2f} above validation", dy=-0.25, dx=-0.2)
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.05), title="the post's cell: training grows faster")
    ax.legend(fontsize=7, loc="upper left")


STORY = ("the post", "the post without flip", "legacy, every fix", "modern, done right")
SHORT = {"the post": "the post", "the post without flip": "post, no flip", "legacy, every fix": "legacy,\nevery fix",
         "modern, done right": "modern,\ndone right", FLIP_ON_RECORDING: "modern, by rec.,\nflip on",
         FINAL_LEGACY: "legacy,\nretrained on all",
         FINAL: "final: modern,\nretrained on all"}


def draw_honest(fig, reference_runs: list[dict[str, History]],
                names: tuple[str, ...] = (*STORY, FINAL_LEGACY, FINAL)) -> None:
    """Each run's validation (rescale-only, final weights) beside its new-signer test accuracy, one dot per seed,
    error bars ±1 s.e. counted in recordings; the post's logged validation as open circles."""
    from helpers.curves import COLORS

    ax = fig.subplots()
    for i, name in enumerate(names):
        for j, runs in enumerate(reference_runs):
            h, dx = runs[name], (j - 1) * 0.08
            first = i == 0 and j == 0
            if "val_true" in h.arrays:
                val, se, _ = recording_accuracy(h, "val")
                ax.errorbar(i - 0.15 + dx, val, se, fmt="o", color=COLORS["val"], ms=4, capsize=2,
                            label="validation files (rescale only)" if first else None)
            new, se, _ = recording_accuracy(h, "test")
            ax.errorbar(i + 0.15 + dx, new, se, fmt="s", color=COLORS["test"], ms=4, capsize=2,
                        label="new signers (test folder)" if first else None)
        if name == "the post":
            logged = [r[name].final("val_accuracy", LAST) for r in reference_runs]
            ax.plot(i - 0.15 + (np.arange(len(logged)) - 1) * 0.08, logged, "o", mfc="none", color=COLORS["val"],
                    ms=6, label="validation as Keras logged it (augmented)")
    ax.set_xticks(range(len(names)), [SHORT.get(n, n) for n in names], fontsize=8)
    ax.set(ylabel="accuracy of the final weights", ylim=(0, 1.05),
           title=f"what validation says, and what new signers say ({len(reference_runs)} seeds each; "
                 "bars: ±1 s.e. over recordings)")
    ax.title.set_fontsize(9)
    ax.axhline(0.1, color="0.6", ls=":", lw=1)
    ax.legend(fontsize=7, loc="lower left")


def confusion(runs: list[History], classes: int) -> np.ndarray:
    """The new-signer confusion matrix of the final weights, summed over runs (rows: true sign, columns: predicted)."""
    from sklearn.metrics import confusion_matrix

    return sum(confusion_matrix(h.arrays["test_true"], h.arrays["test_predicted"], labels=range(classes))
               for h in runs)


def draw_confusions(fig, reference_runs: list[dict[str, History]], names=("the post", "the post without flip"),
                    config: GeneratorConfig | None = None) -> None:
    """New-signer confusion matrices (row-normalised, summed over the reference seeds), side by side."""
    config = config or GeneratorConfig()
    k = config.sizes["classes"]
    axes = fig.subplots(1, len(names))
    for ax, name in zip(axes, names, strict=True):
        m = confusion([r[name] for r in reference_runs], k)
        shown = ax.imshow(m / m.sum(1, keepdims=True), cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(k), config.class_names, fontsize=7)
        ax.set_yticks(range(k), config.class_names, fontsize=7)
        ax.set(xlabel="predicted sign", ylabel="true sign")
        ax.set_title(f"{name}: new signers, {len(reference_runs)} seeds\n(accuracy "
                     f"{np.trace(m) / m.sum():.2f})", fontsize=9)
    fig.colorbar(shown, ax=axes, shrink=0.8, label="share of the row")


def draw_split_map(fig, config: GeneratorConfig | None = None, classes: int = 4) -> None:
    """Which frames each split sends to validation: frame number across, class down, recordings marked."""
    config = config or GeneratorConfig()
    s = config.sizes
    held_out = [split for split in SPLITS if split != "none"]
    axes = fig.subplots(1, len(held_out), sharey=True)
    frames_per_class = s["recordings"] * s["frames"]
    for ax, split in zip(axes, held_out, strict=True):
        _, val = split_files(config.replace(split=split, api="legacy"))
        for row, name in enumerate(config.class_names[:classes]):
            picked = [frame_number(f) for f in val if f.parent.name == name]
            ax.scatter(picked, np.full(len(picked), row), s=9, marker="s", color="tab:orange")
        for r in range(1, s["recordings"]):
            ax.axvline(r * s["frames"] + 0.5, color="0.6", lw=0.8)
        ax.set_xlim(0, frames_per_class + 1)
        ax.set_yticks(range(classes), config.class_names[:classes])
        ax.invert_yaxis()
        ax.set_xlabel("frame number (grey lines: a new recording starts)")
        ax.set_title({"sorted": "legacy subset='validation' (sorted names)", "random": "random files",
                      "recording": "whole recordings"}[split], fontsize=9)
    axes[0].set_ylabel("class folder")


def augmented_copies(config: GeneratorConfig, n: int = 16, index: int = 0) -> tuple[np.ndarray, str]:
    """``n`` passes of one validation file through the config's validation pipeline (legacy), and its name."""
    path = split_files(config.replace(api="legacy"))[1][index]
    x, _ = load_images([path], config.class_names)
    generator = augmenting_generator(config) if config.augment_validation else None
    copies = []
    for i in range(n):
        image = x[0] * 255.0
        if generator is not None:
            image = generator.random_transform(image, seed=config.seed + i)
        copies.append(image[..., 0] / 255.0)
    return np.stack(copies), path.name


def draw_augmented_copies(fig, config: GeneratorConfig | None = None, index: int = 0) -> None:
    """A 4×4 grid: what one validation file looked like each time validation read it."""
    copies, name = augmented_copies(config or GeneratorConfig(), 16, index)
    axes = fig.subplots(4, 4)
    for ax, image in zip(axes.ravel(), copies, strict=True):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{name}: 16 reads through the augmenting generator", fontsize=9)


def draw_panel(fig, history: History, config: GeneratorConfig) -> None:
    """FixPanel view: the accuracy curves, and the new-signer confusion matrix of the final weights."""
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    flip = "on" if config.flip else "off"
    plot_accuracy(left, history, title=f"{config.api} API, split: {config.split}, flip {flip}")
    k = config.sizes["classes"]
    m = confusion([history], k)
    right.imshow(m / np.maximum(m.sum(1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    right.set_xticks(range(k), config.class_names, fontsize=7)
    right.set_yticks(range(k), config.class_names, fontsize=7)
    right.set(xlabel="predicted sign", ylabel="true sign")
    right.set_title(f"new signers: accuracy {np.trace(m) / m.sum():.2f}", fontsize=9)


def make_config(api: str, augment_validation: bool, flip: bool, split: str, shear: float,
                zoom: float) -> GeneratorConfig:
    return GeneratorConfig(api=api, augment_validation=augment_validation, flip=flip, split=split, shear=shear,
                           zoom=zoom)


# What `make bench` and the browser test do to the panel: flip a cached knob, then ask for one uncached run.
PANEL_DEMO = {"toggle": ("flip", [False, True]), "uncached": ("zoom", 0.1), "view": ()}


def knobs() -> list:
    from helpers.widgets import Choice, Levels, Toggle

    return [
        Choice("api", "API", [("legacy ImageDataGenerator", "legacy"), ("image_dataset_from_directory", "modern")],
               "legacy"),
        Toggle("augment_validation", "validation goes through the augmentation (legacy: the augmenting generator; "
               "modern: ds.map on both splits; off for split none)", True),
        Toggle("flip", "horizontal_flip", True),
        Choice("split", "split", [("legacy sorted subset", "sorted"), ("random files", "random"),
                                  ("by recording", "recording"), ("none: every recording trains", "none")],
               "sorted"),
        Levels("shear", "shear_range (degrees)", SHEARS, 0.2),
        Levels("zoom", "zoom_range", ZOOMS, 0.2),
    ]
