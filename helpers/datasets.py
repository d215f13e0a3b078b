"""Every dataset the suite uses, made locally and deterministically from a seed.

Nothing is downloaded: the images are drawn here (or come from a dataset that
ships inside scikit-learn), and the same seed gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

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


def production_line(
    n_rows: int,
    *,
    bad_rate: float = 0.025,
    drift: float = 1.0,
    seed: int = 0,
    n_params: int = 31,
) -> dict[str, np.ndarray]:
    """A time-ordered production log: 31 machine parameters per part and whether the part was good.

    Parameters have realistic scales (temperatures ~200 °C, pressures ~5 bar,
    speeds ~1500 rpm, times ~30 s …) and are correlated through a few shared
    latent factors. The process *setpoints* drift slowly and jump once (a tool
    change at 80 % of the run), scaled by ``drift``. A part is bad when its
    parameters deviate from the setpoints of its own time, so the cause of a
    bad part is the same in every period while the raw values move.

    Returns ``x`` (rows × params, time order), ``good`` (1 = good part, 0 = bad),
    ``time`` (0..1) and ``setpoint`` (the true setpoints, for the drift plot).
    """
    check_range("n_rows", n_rows, 100, 10_000_000, integer=True)
    check_range("bad_rate", bad_rate, 0.001, 0.5)
    check_range("drift", drift, 0.0, 5.0)
    g = rng(seed)
    time = np.linspace(0.0, 1.0, n_rows)
    scale = np.exp(g.uniform(np.log(0.5), np.log(2000), n_params))  # ~0.5 … 2000 units
    spread = scale * g.uniform(0.01, 0.04, n_params)  # part-to-part variation
    trend = g.normal(0, 1, n_params)  # setpoint drift, in spreads over the whole run
    jump = g.normal(0, 1, n_params) * (g.random(n_params) < 0.5)  # half the params move at the tool change
    shape = (trend[None, :] * 3 * time[:, None] + jump[None, :] * 4 * (time[:, None] >= 0.8)) * drift
    setpoint = scale[None, :] + shape * spread[None, :]
    loadings = g.normal(0, 1, (n_params, 4)) / 2.0
    noise = g.normal(0, 1, (n_rows, 4)) @ loadings.T + g.normal(0, 1, (n_rows, n_params))
    noise /= np.sqrt((loadings**2).sum(1) + 1)[None, :]
    x = setpoint + noise * spread[None, :]
    # Bad parts: a few parameters far from their setpoint (either side), plus one interaction.
    causes = g.choice(n_params, 5, replace=False)
    dev = noise[:, causes]
    risk = (dev**2) @ np.array([1.0, 0.8, 0.6, 0.5, 0.4]) + 0.8 * dev[:, 0] * dev[:, 1]
    threshold = np.quantile(risk, 1 - bad_rate)
    logit = 3.0 * (risk - threshold)
    bad = g.random(n_rows) < 1 / (1 + np.exp(-logit))
    return {
        "x": x.astype("float32"),
        "good": (~bad).astype("float32"),
        "time": time.astype("float32"),
        "setpoint": setpoint.astype("float32"),
        "causes": causes,
    }


def prototype_images(
    n: int,
    *,
    n_classes: int = 10,
    size: tuple[int, int] = (16, 16),
    channels: int = 3,
    noise: float = 0.15,
    contrast: float = 0.18,
    max_shift: int = 2,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Colour images whose class is a smooth random texture (one prototype per class).

    Each sample is its class prototype shifted by up to ``max_shift`` pixels, with a
    random brightness (``contrast`` scales the texture) and pixel noise; pixels in [0, 1]. Class signal is strong, so
    a small CNN learns it in a few epochs. The prototypes depend only on ``n_classes``
    and the image shape, so two calls with different seeds draw the same classes.
    """
    from scipy.ndimage import gaussian_filter

    check_range("n", n, 1, 10_000_000, integer=True)
    check_range("n_classes", n_classes, 2, 1000, integer=True)
    h, w = size
    proto_rng = rng(1000 + n_classes)
    protos = proto_rng.normal(0, 1, (n_classes, h, w, channels))
    protos = gaussian_filter(protos, sigma=(0, 1.5, 1.5, 0))
    protos = (protos - protos.mean(axis=(1, 2, 3), keepdims=True)) / protos.std(axis=(1, 2, 3), keepdims=True)
    g = rng(seed)
    labels = g.integers(0, n_classes, n)
    images = np.empty((n, h, w, channels), dtype=np.float32)
    for i, label in enumerate(labels):
        dy, dx = g.integers(-max_shift, max_shift + 1, 2)
        image = np.roll(protos[label], (dy, dx), axis=(0, 1))
        image = 0.5 + contrast * image * g.uniform(0.7, 1.3) + g.normal(0, noise, image.shape)
        images[i] = np.clip(image, 0.0, 1.0)
    return images, labels.astype("int64")


def glyph_shapes(n_classes: int = 9, glyph: int = 5) -> np.ndarray:
    """One smooth random ``glyph``×``glyph`` shape per class, zero mean and unit spread (the same for every seed)."""
    from scipy.ndimage import gaussian_filter

    shapes = gaussian_filter(rng(1000 + n_classes).normal(0, 1, (n_classes, glyph + 4, glyph + 4)), (0, 1, 1))
    shapes = shapes[:, 2:-2, 2:-2]  # cut the filter's edge
    return (shapes - shapes.mean(axis=(1, 2), keepdims=True)) / shapes.std(axis=(1, 2), keepdims=True)


def glyph_images(
    n: int,
    *,
    n_classes: int = 9,
    size: int | tuple[int, int] = 16,
    glyph: int = 5,
    signal: float = 0.8,
    clutter: float = 1.0,
    noise: float = 0.1,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Colour images whose class is a small grey glyph placed anywhere, over clutter of each image's own.

    The glyph (``glyph``×``glyph`` pixels, amplitude ``signal``, one per class) sits at a
    uniformly random position and is mirrored left-right half of the time; the rest is
    smooth colour clutter (amplitude ``clutter``) plus pixel noise. The clutter makes every
    image easy to tell apart (easy to memorise) while the class is a faint thing that moves:
    a model that ties weights to positions needs many examples, and shifts and flips keep
    the label, so augmentation can stand in for data. Returns NCHW float32 pixels in
    [0, 1] (PyTorch's layout) and int64 labels; glyphs depend only on ``n_classes`` and ``glyph``.
    Image i is the same whatever ``n``, so a smaller set is a prefix of a larger one.
    """
    from scipy.ndimage import gaussian_filter

    check_range("n", n, 1, 10_000_000, integer=True)
    check_range("n_classes", n_classes, 2, 1000, integer=True)
    h, w = (size, size) if isinstance(size, int) else size
    check_range("glyph", glyph, 2, min(h, w), integer=True)
    shapes = glyph_shapes(n_classes, glyph)
    g = rng(seed)
    labels = np.empty(n, dtype="int64")
    images = np.empty((n, 3, h, w), dtype=np.float32)
    for i in range(n):
        labels[i] = label = g.integers(0, n_classes)
        image = gaussian_filter(g.normal(0, 1, (3, h, w)), (0, 1.5, 1.5))
        image *= clutter / image.std()
        shape = shapes[label][:, ::-1] if g.random() < 0.5 else shapes[label]
        top, left = g.integers(0, h - glyph + 1), g.integers(0, w - glyph + 1)
        image[:, top : top + glyph, left : left + glyph] += signal * shape
        images[i] = np.clip(0.5 + 0.15 * (image + g.normal(0, noise, image.shape)), 0.0, 1.0)
    return images, labels


def moving_pattern_recordings(
    n_classes: int,
    recordings_per_class: int,
    frames: int,
    *,
    size: int = 32,
    signal: float = 0.6,
    background: float = 1.0,
    noise: float = 0.1,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Grayscale video recordings: a class pattern moving slowly over a background of the recording's own.

    Within a recording the pattern drifts a pixel every few frames, the background
    slowly morphs and the lighting drifts, so neighbouring frames are near-duplicates;
    the class is the pattern (amplitude ``signal``), the recording is the background
    (amplitude ``background``). Returns ``frames`` (recordings × frames × size × size,
    in [0, 1]), ``label`` and ``recording`` (one id per recording). Class patterns
    depend only on ``n_classes`` and ``size``, so another seed films the same classes.
    """
    from scipy.ndimage import gaussian_filter

    check_range("n_classes", n_classes, 2, 1000, integer=True)
    check_range("recordings_per_class", recordings_per_class, 1, 10_000, integer=True)
    check_range("frames", frames, 3, 10_000, integer=True)
    patterns = gaussian_filter(rng(3000 + n_classes).normal(0, 1, (n_classes, size, size)), sigma=(0, 2, 2))
    patterns /= patterns.std(axis=(1, 2), keepdims=True)
    g = rng(seed)
    n = n_classes * recordings_per_class
    out = np.empty((n, frames, size, size), dtype=np.float32)
    labels = np.repeat(np.arange(n_classes), recordings_per_class)
    t = np.arange(frames)
    for r, label in enumerate(labels):
        start, end = (gaussian_filter(g.normal(0, 1, (size, size)), 3) for _ in range(2))
        start, end = start / start.std(), end / end.std()
        y0, x0 = g.integers(-2, 3, 2)  # the pattern starts near its home position ...
        vy, vx = g.uniform(-0.2, 0.2, 2)  # ... and wanders (pixels per frame)
        light = g.uniform(0.8, 1.2) + g.uniform(-0.01, 0.01) * t
        for f in t:
            mix = f / max(1, frames - 1)
            back = np.sqrt(1 - mix) * start + np.sqrt(mix) * end
            pattern = np.roll(patterns[label], (round(y0 + vy * f), round(x0 + vx * f)), axis=(0, 1))
            image = light[f] * (signal * pattern + background * back) + g.normal(0, noise, (size, size))
            out[r, f] = np.clip(0.5 + 0.15 * image, 0.0, 1.0)
    return {"frames": out, "label": labels.astype("int64"), "recording": np.arange(n)}


def sign_recordings(
    n_classes: int,
    recordings_per_class: int,
    frames: int,
    *,
    mirror_pairs: int = 0,
    size: int = 32,
    signal: float = 1.0,
    background: float = 0.5,
    signer: float = 0.5,
    noise: float = 0.08,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Grayscale "sign language" recordings: a hand shape per class, filmed as slowly drifting video.

    Each recording is another signer: the class shape plus a smooth deformation of its
    own (amplitude ``signer``, relative to the shape), over its own background (amplitude
    ``background``) and lighting. Within a recording the shape drifts in
    position, scale and brightness a little per frame, so neighbouring frames are
    near-duplicates. Classes 2i and 2i+1 (i < ``mirror_pairs``) are mirror images of
    each other, as signs that differ only by the hand used. Returns ``frames``
    (recordings × frames × size × size, in [0, 1]), ``label`` and ``recording``.
    Shapes depend only on ``n_classes`` and ``size``: another seed films the same signs.
    """
    from scipy.ndimage import affine_transform, gaussian_filter

    check_range("n_classes", n_classes, 2, 1000, integer=True)
    check_range("mirror_pairs", mirror_pairs, 0, n_classes // 2, integer=True)
    check_range("recordings_per_class", recordings_per_class, 1, 10_000, integer=True)
    check_range("frames", frames, 1, 100_000, integer=True)
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    # A shape is smooth texture under a soft disc, so zoom and shifts move a visible "hand".
    window = np.exp(-(yy**2 + xx**2) / (2 * (size / 4.5) ** 2))
    shapes = gaussian_filter(rng(4000 + n_classes).normal(0, 1, (n_classes, size, size)), sigma=(0, 1.5, 1.5))
    for i in range(mirror_pairs):
        shapes[2 * i + 1] = shapes[2 * i, :, ::-1]
    shapes = shapes * window
    shapes /= shapes.std(axis=(1, 2), keepdims=True)
    g = rng(seed)
    n = n_classes * recordings_per_class
    out = np.empty((n, frames, size, size), dtype=np.float32)
    labels = np.repeat(np.arange(n_classes), recordings_per_class)
    t = np.arange(frames) / max(1, frames - 1)  # 0 → 1 over a recording
    centre = np.array([(size - 1) / 2] * 2)
    for r, label in enumerate(labels):
        back = gaussian_filter(g.normal(0, 1, (size, size)), 2.5)
        back /= back.std()
        own = gaussian_filter(g.normal(0, 1, (size, size)), 1.5) * window
        own_shape = shapes[label] + signer * own / own.std()
        shift0, shift1 = g.uniform(-2.5, 2.5, 2), g.uniform(-2.5, 2.5, 2)
        zoom0, zoom1 = g.uniform(0.85, 1.15, 2)
        light0, light1 = g.uniform(0.75, 1.25, 2)
        for f, s in enumerate(t):
            zoom = zoom0 + (zoom1 - zoom0) * s
            offset = centre - (centre + shift0 + (shift1 - shift0) * s) / zoom
            shape = affine_transform(own_shape, np.eye(2) / zoom, offset=offset, order=1, mode="constant")
            light = light0 + (light1 - light0) * s
            image = light * (signal * shape + background * back) + g.normal(0, noise, (size, size))
            out[r, f] = np.clip(0.5 + 0.15 * image, 0.0, 1.0)
    return {"frames": out, "label": labels.astype("int64"), "recording": np.arange(n)}

