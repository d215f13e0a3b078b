"""Case 01, the notebook's named printers (show_*) and the reads of the committed reference behind them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.runs import LAST
from helpers.scenarios.case01_generator.claims import (
    POSTED,
    correlation,
    mirror_correlations,
    per_seed,
    points,
    reference_claims,
    reference_runs,
    seed_table,
    sign_shapes,
)
from helpers.scenarios.case01_generator.figures import confusion, draw_live_run
from helpers.scenarios.case01_generator.lab import (
    frame_number,
    legacy_iterators,
    quiet,
    recording_ids,
    split_files,
    split_folders,
    write_dataset,
)
from helpers.scenarios.case01_generator.runs import BATCH, VALIDATION_FIXED, GeneratorConfig, configs

FRESH_LOSS = float(np.log(10))  # the loss of an untrained 10-way softmax: where a fresh model starts


def post_sizes(scale: str = "mini") -> tuple[int, int]:
    """The miniature's image side and number of signs (the post: 64 and 29)."""
    config = configs(scale)["the post"]
    return config.sizes["image"], len(config.class_names)


def post_folders(scale: str = "mini") -> dict[str, str]:
    """The post's folders in miniature ('asl_alphabet_train', 'asl_alphabet_test') and, for the fix, the same
    training frames split by recording: ``train_recordings`` (three recordings of each sign) and
    ``val_recordings`` (the fourth)."""
    folders = write_dataset(configs(scale)["the post"])
    fixed = split_folders(configs(scale)[VALIDATION_FIXED])
    return {"train_dir": str(folders["train"]), "test_dir": str(folders["test"]),
            "train_recordings": str(fixed["train"]), "val_recordings": str(fixed["val"])}


def _augments(generator) -> bool:
    g = generator.image_data_generator
    return bool(g.horizontal_flip or g.shear_range or not np.allclose(g.zoom_range, 1.0))


def which_run(training_generator, validation_generator, validation_steps: int | None,
              scale: str = "mini") -> tuple[str | None, list[str]]:
    """Which committed run the post cells just trained: "the post", the fix (VALIDATION_FIXED), or None with the
    reasons it is neither (each one a way validation still leaks or reads a random part of its files)."""
    folders = {k: Path(v).resolve() for k, v in post_folders(scale).items()}
    t, v = training_generator, validation_generator
    where = Path(v.directory).resolve(), Path(t.directory).resolve()
    posted_steps = validation_steps == v.samples // BATCH
    if where == (folders["train_dir"],) * 2 and (t.subset, v.subset) == ("training", "validation") \
            and _augments(v) and v.shuffle and posted_steps:
        return "the post", []
    problems = []
    if where[1] != folders["train_recordings"] or t.subset is not None:
        problems.append("training does not read folders['train_recordings'] whole (no subset=): validation's "
                        "recordings may still train")
    if where[0] != folders["val_recordings"] or v.subset is not None:
        problems.append("validation does not read folders['val_recordings'] whole (no subset=)")
    if _augments(v):
        problems.append("validation still goes through an augmenting generator")
    if v.shuffle:
        problems.append("validation is shuffled (pass shuffle=False): with too few steps it reads a random part")
    if validation_steps is not None and validation_steps < len(v):
        problems.append(f"validation_steps={validation_steps} reads {validation_steps * v.batch_size} of "
                        f"{v.samples} files (use None: every file once)")
    if not _augments(t) or not t.image_data_generator.horizontal_flip:
        problems.append("training's augmentation changed too: the committed fix changes validation only")
    return (None if problems else VALIDATION_FIXED), problems


def show_sizes(training_generator, validation_generator, test_generator) -> None:
    """The post's image counts beside the miniature's (the generators' own counts)."""
    p = POSTED
    print(f"the post: {p['n_train']} training + {p['n_val']} validation = {p['n_train'] + p['n_val']} images, "
          f"{p['n_test']} test; here: {training_generator.samples} + {validation_generator.samples}, "
          f"{test_generator.samples} test")


def show_your_run(history, model, training_generator, validation_generator, validation_steps: int | None,
                  test_generator, scale: str = "mini") -> None:
    """Your run's curves over the range of the committed run it matches, and its two gaps beside that run's."""
    import matplotlib.pyplot as plt

    name, problems = which_run(training_generator, validation_generator, validation_steps, scale)
    with quiet():
        new = float(model.evaluate(test_generator, verbose=0, return_dict=True)["accuracy"])
    logged = history.history
    against = name or "the post"
    fig = plt.figure(figsize=(8, 3.6), layout="constrained")
    draw_live_run(fig, logged, list(reference_runs()), against)
    plt.show()
    ref = [r[against] for r in reference_runs()]
    if name is None:
        print("Not a committed run (drawn against the post):\n  " + "\n  ".join(problems))
    print(f"your run is '{against}'; in points at the last epoch, yours and the {len(ref)} reference seeds' "
          "mean (lowest to highest):")
    rows = (("training - validation, as logged", logged["accuracy"][-1] - logged["val_accuracy"][-1],
             [h["accuracy"][-1] - h["val_accuracy"][-1] for h in ref]),
            ("validation, as logged - new signers", logged["val_accuracy"][-1] - new,
             [h["val_accuracy"][-1] - h["test_accuracy"][-1] for h in ref]))
    for what, yours, theirs in rows:
        print(f"  {what:36s} yours {100 * yours:+4.0f}   reference {points(theirs)}")


def show_post_over_seeds() -> None:
    """The post over the reference seeds: each accuracy, and the two differences the lesson is about."""
    runs = reference_runs()
    print(seed_table(list(runs), ("the post",)))
    c = reference_claims()
    print(f"\nin points, mean (lowest to highest seed), per seed:\n"
          f"  training - validation, as logged   {points(c['post_train_minus_logged_val'].values)}"
          f"   {per_seed(c['post_train_minus_logged_val'].values)}\n"
          f"  validation files - new signers     {points(c['post_val_minus_test'].values)}"
          f"   {per_seed(c['post_val_minus_test'].values)}")


def show_reads() -> None:
    """Probe 1: the same final weights, validation read four times through its pipeline, and once as the files are."""
    for seed, runs in enumerate(reference_runs()):
        for name in ("the post", VALIDATION_FIXED):
            h = runs[name]
            reads = " ".join(f"{a:.3f}" for a in h.arrays["val_pipeline_passes"])
            print(f"seed {seed}, {name:27s} four reads: {reads}   the files as they are: "
                  f"{h['val_clean_accuracy'][-1]:.3f}")


def show_subset_files(scale: str = "mini", sign: str = "A") -> None:
    """Probe 2: the files ``subset='validation'`` gave validation for one sign, and their frame numbers."""
    with quiet():
        _, val = legacy_iterators(configs(scale)["the post"])
    names = [Path(p).name for p in val.filepaths if Path(p).parent.name == sign]
    print(len(names), "files:", ", ".join(names))
    print("frame numbers:", sorted(frame_number(f) for f in names))


def show_split_overlap(scale: str = "mini") -> None:
    """The doctor's split probe on each split's recording ids."""
    from helpers import doctor

    for split in ("sorted", "random", "recording"):
        config = configs(scale)["the post"].replace(split=split)
        train_files, val_files = split_files(config)
        found = doctor.probe_split(train_groups=recording_ids(train_files, config),
                                   val_groups=recording_ids(val_files, config))
        print(f"{split:10s}", doctor.report(found) or "no overlap found")


HONEST = ("the post", VALIDATION_FIXED, "legacy, every fix", "modern, done right")


def show_honest_gap(names: tuple[str, ...] = HONEST) -> None:
    """Per run, in points over the reference seeds: the gap the poster watched, validation's optimism against new
    signers (per seed), and how far the model fits its training files beyond new signers."""
    runs = reference_runs()
    print(f"points, mean (lowest to highest) over {len(runs)} seeds, last {LAST} epochs; each seed redraws the data")
    print(f"{'':27s} {'training - validation':>22s} {'validation - new signers':>25s} {'per seed':>12s}"
          f" {'training files - new signers':>29s}")
    for n in names:
        logged = [r[n].final("accuracy", LAST) - r[n].final("val_accuracy", LAST) for r in runs]
        optimism = [r[n].final("val_clean_accuracy", LAST) - r[n].final("test_accuracy", LAST) for r in runs]
        fit = [r[n].final("train_eval_accuracy", LAST) - r[n].final("test_accuracy", LAST) for r in runs]
        print(f"{n:27s} {points(logged):>22s} {points(optimism):>25s} {per_seed(optimism):>12s} {points(fit):>29s}")
    post = [r["the post"].final("accuracy", LAST) - r["the post"].final("val_accuracy", LAST) for r in runs]
    print("training - validation, each run minus the post, per seed:")
    for n in names[1:]:
        gap = [r[n].final("accuracy", LAST) - r[n].final("val_accuracy", LAST) - p
               for r, p in zip(runs, post, strict=True)]
        print(f"  {n:27s} {per_seed(gap)}")


def show_flip(names: tuple[str, ...] = ("the post", "the post without flip")) -> None:
    """The flip's measured effects on new signers (two splits), and each run's three largest confusions."""
    c = reference_claims()
    print("flip off minus on, new signers, points (per seed):\n"
          f"  the post's leaky split        {points(c['flip_cost_test'].values)}"
          f"   {per_seed(c['flip_cost_test'].values)}\n"
          f"  the split by recording        {points(c['flip_cost_honest_test'].values)}"
          f"   {per_seed(c['flip_cost_honest_test'].values)}")
    signs = GeneratorConfig().class_names
    for name in names:
        m = confusion([r[name] for r in reference_runs()], len(signs))
        share = m / m.sum(1, keepdims=True)
        off = np.where(np.eye(len(signs), dtype=bool), 0, share)
        top = zip(*np.unravel_index(np.argsort(off, axis=None)[::-1][:3], off.shape), strict=True)
        print(f"{name}, largest confusions (3 seeds pooled):", ", ".join(
            f"{signs[t]} as {signs[p]} {share[t, p]:.2f}" for t, p in top))


def show_mirror_correlations(config: GeneratorConfig | None = None) -> None:
    """Each sign against its own mirror image, and the sign its mirror image resembles most."""
    config = config or GeneratorConfig()
    c, signs = mirror_correlations(config), config.class_names
    own = np.diag(c)
    print("correlation of each sign's shape with its own mirror image:",
          ", ".join(f"{s} {v:+.2f}" for s, v in zip(signs, own, strict=True)))
    print(f"near zero (|r| < 0.2), the mirror image an unrelated pattern: {int(np.sum(np.abs(own) < 0.2))} of "
          f"{len(signs)} signs")
    shapes, i, g = sign_shapes(config), signs.index("I"), signs.index("G")
    print(f"against I: flip(I) {c[i, i]:+.2f}, G {correlation(shapes[g], shapes[i]):+.2f}, "
          f"flip(G) {c[g, i]:+.2f}")


def show_choice() -> None:
    """The ending: the flip and the pipeline chosen on the split by recording, then the final model's new signers."""
    c = reference_claims()
    rows = (("flip off minus on, split by recording (legacy): validation", "flip_cost_honest_val"),
            ("modern minus legacy, split by recording (flip off): validation", "modern_minus_legacy_val"),
            ("final (modern, flip off, all 4 recordings) minus the post: new signers", "final_minus_post_test"),
            ("retrained on 4 recordings minus 3, modern: new signers", "final_minus_recording_test"),
            ("retrained on 4 recordings minus 3, legacy: new signers", "legacy_retrain_gain_test"))
    print("points, mean (lowest to highest seed), then each seed")
    for what, key in rows:
        print(f"  {points(c[key].values):>14s}  {per_seed(c[key].values):>12s}  {what}")


def show_test_folder_intervals() -> None:
    """90 % Wilson intervals of accuracies measured on the post's 35 test images and on 400."""
    from helpers.stats import wilson_interval

    for accuracy in (0.5, 0.7, 0.9):
        for n in (35, 400):
            low, high = wilson_interval(accuracy, n, level=0.90)
            print(f"measured {accuracy:.1f} on {n:3d} images: 90 % interval {low:.2f} to {high:.2f} "
                  f"(width {high - low:.2f})")
