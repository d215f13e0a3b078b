"""Findings: what the doctor reports, how sure it is, and how to print it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# "summary" ranks below "info": the GAP line every log with both curves gets. It describes, it does not
# diagnose, so ``codes()`` (at_least="info") leaves it out and ``is_alarming`` ignores it.
SEVERITIES = ("error", "warn", "info", "summary")


@dataclass(frozen=True)
class Finding:
    """One diagnosis: what, how sure, the numbers behind it, and what to try.

    code: stable name (METRIC_INCONSISTENT, OVERFITTING, GAP ...).
    severity: "error" (the numbers cannot be right or a bug is certain), "warn" (likely a problem),
    "info", or "summary" (the GAP line).
    """

    code: str
    severity: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity={self.severity!r}; choose one of {', '.join(SEVERITIES)}.")

    def __str__(self) -> str:
        return f"{self.code} {self.severity}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def brief(self) -> str:
        """The finding and the fix to try (the GAP line, which describes, without its generic advice)."""
        if self.fix and self.severity != "summary":
            return f"{self}\n    fix: {self.fix}"
        return str(self)

    def explain(self) -> str:
        """The finding, its evidence numbers one per line, and the fix."""
        lines = [str(self)]
        for key, value in self.evidence.items():
            shown = f"{value:.6g}" if isinstance(value, float) else str(value)
            lines.append(f"    {key} = {shown}")
        if self.fix:
            lines.append(f"    fix: {self.fix}")
        return "\n".join(lines)


def codes(findings: Sequence[Finding], *, at_least: str = "info") -> set[str]:
    """The codes of the findings at ``at_least`` severity or worse.

    at_least: one of SEVERITIES; "summary" includes the GAP line.
    """
    if at_least not in SEVERITIES:
        raise ValueError(f"at_least={at_least!r}; choose one of {', '.join(SEVERITIES)}.")
    rank = SEVERITIES.index(at_least)
    return {f.code for f in findings if SEVERITIES.index(f.severity) <= rank}


def is_alarming(findings: Sequence[Finding]) -> bool:
    """True when any finding is an error or a warning."""
    return any(f.severity in ("error", "warn") for f in findings)



def report(findings: Sequence[Finding], *, explain: bool = False, fix: bool = False) -> str:
    """One line per finding, or 'no findings'; ``fix`` adds the fix to try under each, ``explain`` the evidence
    numbers and the fix (``gap-doctor`` prints the fix by default)."""
    if not findings:
        return "no findings"
    return "\n".join(f.explain() if explain else f.brief() if fix else str(f) for f in findings)
