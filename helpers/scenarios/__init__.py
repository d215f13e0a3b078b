"""One declarative module per lesson: data, model, bug and fix configs, knobs, symptom bands."""

from __future__ import annotations

Bands = dict[str, tuple[float, float]]


def outside_bands(measured: dict[str, float], bands: Bands) -> dict[str, tuple[float, tuple[float, float]]]:
    """Each measured number that falls outside its band, with the band (empty = every claim holds)."""
    missing = set(bands) - set(measured)
    if missing:
        raise ValueError(f"no measurement for band(s) {sorted(missing)}.")
    return {k: (v, bands[k]) for k, v in measured.items() if not bands[k][0] <= v <= bands[k][1]}
