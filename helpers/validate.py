"""Input checks whose messages say what is allowed and what to do."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> None:
    """Raise ValueError unless ``value`` is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(
            f"{name}={value!r} is not allowed; choose one of {', '.join(map(repr, allowed))}."
        )


def check_range(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    integer: bool = False,
) -> None:
    """Raise ValueError unless ``low <= value <= high`` (and an int when ``integer``)."""
    kind = "an integer" if integer else "a number"
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        raise ValueError(f"{name}={value!r} must be {kind} in [{low}, {high}].")
    if not (low <= value <= high):
        raise ValueError(f"{name}={value!r} is out of range; allowed is {low} to {high} inclusive.")


def check_bool(name: str, value: Any) -> None:
    """Raise ValueError unless ``value`` is True or False."""
    if not isinstance(value, bool):
        raise ValueError(f"{name}={value!r} must be True or False.")
