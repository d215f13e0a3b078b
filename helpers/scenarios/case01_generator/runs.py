"""Case 01, configs and run names: what each run is (the knobs, the story, the reference grid)."""

from __future__ import annotations

from dataclasses import dataclass

from helpers.runs import RunConfig
from helpers.validate import check_bool, check_choice

SCALES = ("mini", "forum")
APIS = ("legacy", "modern")
SPLITS = ("sorted", "random", "recording", "none")  # none: every file trains (the final model)
SHEARS = (0.2, 10.0, 20.0)  # degrees: ImageDataGenerator's shear_range is an angle in degrees
ZOOMS = (0.0, 0.1, 0.2, 0.3)
VAL_FRACTION = 0.2
BATCH = 64
PASSES = 4  # validation passes through its own pipeline after training, same weights
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


VALIDATION_FIXED = "the post, validation fixed"
FINAL_LEGACY = "legacy, retrained on every recording"
FLIP_ON_RECORDING = "modern, by recording, flip on"
FINAL = "final: modern, retrained on every recording"


def configs(scale: str = "mini") -> dict[str, GeneratorConfig]:
    """The runs the notebook tells its story with."""
    check_choice("scale", scale, SCALES)
    post = GeneratorConfig(scale=scale)
    return {
        "the post": post,
        # The notebook's hands-on edit, exactly: whole recordings to validation, read by a rescale-only generator,
        # every file once and in order; training (flip, shear, zoom) as posted.
        VALIDATION_FIXED: post.replace(split="recording", augment_validation=False),
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


def reference_configs(scale: str = "mini") -> dict[str, GeneratorConfig]:
    """Every run a claim rests on (the story's runs; the extras are the panel's to try)."""
    return configs(scale)
