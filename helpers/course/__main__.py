"""python -m helpers.course: each notebook's headless run time, read from its committed execution timestamps."""

from __future__ import annotations

import json
import sys

from helpers.course import executed_seconds, notebook_paths


def main() -> int:
    for path in notebook_paths():
        nb = json.loads(path.read_text(encoding="utf-8"))
        seconds = executed_seconds(nb)
        stamp = next((c["metadata"]["execution"].get("iopub.execute_input", "") for c in nb["cells"]
                      if c["cell_type"] == "code" and "execution" in c.get("metadata", {})), "")
        shown = f"{seconds:6.1f} s" if seconds is not None else "     n/a"
        print(f"{path.name:42s} {shown}   executed {stamp[:16].replace('T', ' ')} UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
