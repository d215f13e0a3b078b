"""gap-doctor: exit codes, --all/--json/--explain/--format, and fuzzed inputs that must exit 2 with one line."""

import json
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest

from helpers.doctor import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "doctor_fixtures"


def run_main(capsys, *args):
    """main() as the console script calls it: exit status, stdout, stderr lines, and every warning raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err.strip().splitlines(), caught


def write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


GOOD = (FIXTURES / "keras_appended.csv").read_text()
FUZZ = {
    "truncated-json": ('h.json', (FIXTURES / "hf_trainer_state.json").read_text()[:300], "truncated JSON"),
    "truncated-after-header": ("t.csv", "epoch,loss,accuracy,val_loss,val_accuracy\n0,1.2,0.5,1.", "needs at least 2"),
    "utf16-without-bom": ("u.csv", GOOD.encode("utf-16-le"), "binary content"),
    "latin1-header": ("l.csv", "epoch;précision;loss;val_précision;val_loss\n0;0,5;1;0,4;1\n".encode("latin-1"),
                      "not a text CSV or JSON log in UTF-8 (byte 0xe9"),
    "binary-garbage": ("g.bin", bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),
                       "binary content"),
    "all-nan": ("n.csv", "epoch,loss,val_loss\n0,nan,nan\n1,nan,nan\n2,nan,nan\n", "0 epoch(s) with numbers"),
    "empty": ("e.csv", "", "empty"),
    "one-column": ("o.csv", "loss\n1\n2\n", "not a training log"),
    "json-not-history": ("j.json", '{"model": "resnet", "lr": 0.1}', "no per-epoch lists"),
    "hf-never-evaluated": ("s.json", '{"log_history": [{"loss": 1.0, "step": 10}]}', "never evaluated"),
    "text-cell": ("x.csv", "epoch,loss,val_loss\n0,1,1.1\n1,abc,1.0\n", "is not a number"),
}


@pytest.mark.parametrize("case", FUZZ, ids=list(FUZZ))
def test_unreadable_input_exits_2_with_one_line_and_no_warning(tmp_path, capsys, case):
    name, content, needle = FUZZ[case]
    code, out, err, caught = run_main(capsys, write(tmp_path, name, content))
    assert code == 2 and out == ""
    assert len(err) == 1 and needle in err[0] and "Traceback" not in err[0], err
    assert [str(w.message) for w in caught] == []


def test_missing_file_and_forced_wrong_format(tmp_path, capsys):
    code, _, err, _ = run_main(capsys, tmp_path / "nope.csv")
    assert code == 2 and err == [f"error: {tmp_path / 'nope.csv'}: no such file."]
    code, _, err, _ = run_main(capsys, FIXTURES / "keras_resumed.csv", "--format", "hf")
    assert code == 2 and len(err) == 1 and "JSON" in err[0]


def test_all_zero_rows_and_nan_cells_give_findings_without_any_warning(tmp_path, capsys):
    zeros = "epoch,loss,accuracy,val_loss,val_accuracy\n" + "".join(f"{i},0,0,0,0\n" for i in range(6))
    code, out, err, caught = run_main(capsys, write(tmp_path, "z.csv", zeros))
    assert code in (0, 1) and err == [] and caught == []
    diverged = "epoch,loss,val_loss\n" + "".join(f"{i},{2 - i / 10},{2.1 - i / 10}\n" for i in range(8)) + \
        "8,nan,nan\n9,nan,nan\n"
    code, out, err, caught = run_main(capsys, write(tmp_path, "d.csv", diverged), "--loss", "other")
    assert code == 1 and out.startswith("DIVERGED warn: loss and val_loss are NaN or infinite from epoch 9")
    assert caught == []


def test_all_runs_json_and_explain(capsys):
    _, out, _, _ = run_main(capsys, FIXTURES / "keras_appended.csv", "--all")
    assert [line for line in out.splitlines() if line.startswith("run ")] == [
        "run 1 of 3 (epochs 1–4):", "run 2 of 3 (epochs 3–5):", "run 3 of 3 (epochs 1–6):"]
    code, out, _, _ = run_main(capsys, FIXTURES / "keras_appended.csv", "--json")
    assert code in (0, 1)
    items = json.loads(out)
    assert items[-1]["code"] == "GAP" and set(items[-1]) == {"code", "severity", "message", "evidence", "fix"}
    _, out, _, _ = run_main(capsys, FIXTURES / "keras_appended.csv", "--json", "--all")
    assert [r["epochs"] for r in json.loads(out)] == [[1, 4], [3, 5], [1, 6]]
    _, out, _, _ = run_main(capsys, FIXTURES / "keras_appended.csv", "--explain")
    assert "    best_epoch = " in out and "    fix: " in out


def test_console_script_is_declared_and_survives_a_users_own_helpers_module(tmp_path):
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"gap-doctor": "helpers.doctor.cli:main"}
    # What pip writes for the entry point: a script in bin/, so sys.path[0] is bin/, not the user's folder,
    # and the user's own helpers.py in the working directory does not shadow the package.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "gap-doctor"
    script.write_text("import sys\nfrom helpers.doctor.cli import main\nsys.exit(main())\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "helpers.py").write_text("raise ImportError('the user helpers.py was imported')\n")
    env_path = str(ROOT)  # stands in for the installed package
    out = subprocess.run([sys.executable, str(script), str(FIXTURES / "keras_resumed.csv")], cwd=project,
                         capture_output=True, text=True, env={"PYTHONPATH": env_path, "PATH": ""})
    assert out.returncode in (0, 1), out.stderr
    assert out.stdout.startswith("GAP summary: accuracy: train 0.84 vs val 0.78")


def test_python_m_helpers_doctor_still_works():
    out = subprocess.run([sys.executable, "-m", "helpers.doctor", str(FIXTURES / "keras_history.json")],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode in (0, 1) and "GAP summary" in out.stdout and out.stderr == ""


def test_importing_the_doctor_imports_no_framework():
    code = ("import sys, helpers.doctor, helpers.doctor.corpus; "
            "print(sorted(m for m in ('tensorflow', 'torch', 'keras', 'tensorboard') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stderr


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path):
    """`gap-doctor log.csv | head -1`: the pipe closes before the doctor writes; nothing may reach stderr."""
    import subprocess
    import sys

    log = tmp_path / "log.csv"
    log.write_text("epoch,loss,accuracy,val_loss,val_accuracy\n" + "".join(
        f"{e},{1 / (e + 1):.4f},{0.5 + e / 100:.4f},{1 / (e + 1) + e / 50:.4f},{0.5 + e / 200:.4f}\n"
        for e in range(40)))
    proc = subprocess.Popen([sys.executable, "-m", "helpers.doctor", str(log), "--explain"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the doctor has imported numpy, let alone printed
    _, err = proc.communicate(timeout=120)
    assert err.decode() == "" and proc.returncode in (0, 1)
