"""Every dataset the suite uses, made locally and deterministically from a seed.

Nothing is downloaded: the images are drawn here (or come from a dataset that
ships inside scikit-learn), and the same seed gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from helpers.runs import cache_dir
from helpers.validate import check_range


def rng(seed: int) -> np.random.Generator:
    """The one way the suite makes randomness from a seed."""
    check_range("seed", seed, 0, 2**31 - 1, integer=True)
    return np.random.default_rng(seed)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 handwritten 8×8 digits (ships with the package), pixels in [0, 1]."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return (bunch.images / 16.0).astype("float32"), bunch.target.astype("int64")


def shift_images(images: np.ndarray, dx: int = 0, dy: int = 0) -> np.ndarray:
    """Translate a stack of 2-D images by whole pixels, filling with zeros (another camera)."""
    out = np.zeros_like(images)
    h, w = images.shape[-2:]
    src_y = slice(max(0, -dy), h - max(0, dy))
    dst_y = slice(max(0, dy), h - max(0, -dy))
    src_x = slice(max(0, -dx), w - max(0, dx))
    dst_x = slice(max(0, dx), w - max(0, -dx))
    out[..., dst_y, dst_x] = images[..., src_y, src_x]
    return out


def data_dir() -> Path:
    """Generated datasets live beside the run cache (gitignored)."""
    return cache_dir().parent / "generated"


def write_image_folder(
    root: Path,
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    file_name: Callable[[int, int], str],
) -> Path:
    """Write ``images`` (N×H×W floats in [0, 1]) as grayscale PNGs in one folder per class.

    file_name(class_index, index_within_class) -> the file's name, so a case can
    reproduce a real dataset's naming (``A1.png``, ``A10.png`` …). A finished
    folder is marked with ``.complete`` and reused; a half-written one is rewritten.
    """
    from PIL import Image

    root = Path(root)
    marker = root / ".complete"
    if marker.exists():
        return root
    counters = {k: 0 for k in range(len(class_names))}
    for image, label in zip(images, labels, strict=True):
        folder = root / class_names[int(label)]
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.clip(np.rint(image * 255), 0, 255).astype("uint8")
        Image.fromarray(pixels, mode="L").save(folder / file_name(int(label), counters[int(label)]))
        counters[int(label)] += 1
    marker.write_text("ok\n")
    return root
