"""Grading a student's answer: examine a patient, check a diagnosis and its cited evidence."""

from __future__ import annotations

from helpers.scenarios.clinic.evidence import verify
from helpers.scenarios.clinic.patients import BY_ID, HEALTHY, PROBE_PATIENTS, check_id, scoring_patient, split_patient
from helpers.scenarios.clinic.rules import PROBE_ONLY, RULES


def examine(patient_id: str):
    """The doctor's findings on one patient: its log, or (S, T) its data and scoring function."""
    from helpers import doctor

    p = BY_ID[check_id(patient_id)]
    if p.id == "S":
        return doctor.probe_split(*split_patient())
    if p.id == "T":
        return doctor.probe_val_determinism(scoring_patient())
    return doctor.diagnose_history(p.log, loss=p.loss, n_classes=p.n_classes, val_size=p.val_size, weighted=p.weighted)


# --- the answer ---------------------------------------------------------------------------------------------------


def _codes(diagnosis) -> set[str]:
    if diagnosis is None:
        return set()
    items = {diagnosis} if isinstance(diagnosis, str) else set(diagnosis)
    codes = {str(c).strip().upper() for c in items}
    return {HEALTHY} if codes in (set(), {HEALTHY}) else codes


def check_answer(patient_id: str, diagnosis=None, evidence: dict | None = None) -> str:
    """Feedback on a diagnosis and the numbers that show it.

    diagnosis: a code ("OVERFITTING"), a set of codes, or "HEALTHY" / set() for "nothing wrong".
    evidence: {quantity: value} in the vocabulary EVIDENCE; "epoch": E sets the epoch of per-epoch quantities,
    "name@E" reads one at another epoch. Each number is checked against the log, then each code against the
    principle behind it (RULES), whatever the doctor prints. The probe patients (S, T) take codes only.
    """
    p = BY_ID[check_id(patient_id)]
    if diagnosis is None:  # numbers without a diagnosis support nothing: "nothing wrong" is said, never assumed
        return (f"{p.id}: no diagnosis — write one (a code, a set of codes, or \"{HEALTHY}\" for nothing wrong) "
                "beside the numbers that show it.")
    raw = diagnosis if isinstance(diagnosis, str) else set(diagnosis or ())
    if raw == {"?"} or raw == "?":
        return f"{p.id}: not answered yet — write a diagnosis and the numbers that show it."
    codes = _codes(diagnosis)
    unknown = codes - set(RULES) - set(PROBE_ONLY)
    if unknown:
        return (f"{p.id}: {', '.join(sorted(unknown))} is not a diagnosis here; use the codes of the table "
                f"(or {HEALTHY} / set() for nothing wrong).")
    if p in PROBE_PATIENTS:
        wanted = set(p.expected)
        if codes == wanted:
            return f"{p.id}: correct — {', '.join(sorted(codes))}: the probe's numbers are the evidence."
        return f"{p.id}: not quite — run the probe on this patient's data and read what it measures."
    if not evidence:
        return (f"{p.id}: you name {', '.join(sorted(codes))}; now say which numbers show it: "
                f"check_answer('{p.id}', diagnosis=..., evidence={{'epoch': ..., ...}}) — see the evidence table.")
    if codes & set(PROBE_ONLY):
        return (f"{p.id}: {', '.join(sorted(codes & set(PROBE_ONLY)))} cannot be read off a log: it needs the "
                "model or the data (the probes).")
    if HEALTHY in codes and len(codes) > 1:
        return f"{p.id}: '{HEALTHY}' (nothing wrong) cannot stand beside a fault; choose."
    cited, problems = verify(p.id, evidence)
    if problems:
        return f"{p.id}: your numbers do not match the log —\n" + "\n".join(f"  · {x}" for x in problems)
    lines, ok = [], True
    for code in sorted(codes):
        supported, why = RULES[code](cited)
        ok &= supported
        lines.append(f"  {'✓' if supported else '✗'} {code}: {why}")
    head = "supported by your numbers" if ok else "not supported"
    missing = set(p.expected) - codes if ok and codes != {HEALTHY} else set(p.expected) if ok else set()
    more = ["  There is more in this log than that: look again before you read the solutions."] if missing else []
    return f"{p.id}: {head} —\n" + "\n".join(lines + more)
