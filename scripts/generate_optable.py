#!/usr/bin/env python3
"""Generate ``src/outplace/data/optable.json`` from the installed torch.

The fixer never imports torch: everything it needs to know about torch's operators is measured here,
once, and checked in.  Run from the repository root::

    python3 scripts/generate_optable.py                 # rewrite the checked-in table
    python3 scripts/generate_optable.py --output X.json # write elsewhere (the tests compare the two)

The measuring lives in the ``torchfacts`` package next to this script, one module per fact family
(its docstring lists them and says how each is measured).  The output is deterministic:
single-threaded torch, fixed seeds (the hash seed too: the script re-runs itself with
PYTHONHASHSEED=0), sorted keys and lists, and notes that never contain addresses or timings.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from torchfacts.table import main  # noqa: E402

if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != "0":
        # Some OpInfo sample generators iterate over sets of strings (meshgrid's `indexing`): which
        # samples come first, and so which are measured, would follow the per-process hash seed.
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    sys.exit(main())
