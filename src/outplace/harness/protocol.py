"""The wire format between the harness (parent) and its worker processes.

One JSON object per line in each direction; the parent writes requests to the worker's stdin, the
worker answers on a private duplicate of its original stdout (fd 1 itself is redirected to a
capture file, so a `print` in user code can never corrupt the channel). Tensors never travel on
this channel: a worker writes them with `torch.save` to a file the parent names, and only the
file's path and a description of each tensor (name, kind, phase, dtype, shape) come back as JSON.

Requests (parent -> worker), each with an integer ``id`` echoed in the answer:

    {"op": "run", "id": 1, "path": ..., "filename": ..., "source": ..., "mode": "script"|"entry",
     "device": "cpu"|"cuda", "oracle": false, "record_path": ..., "memory_mb": 8192|null,
     "record_mb": 1024|null, "seed": 0}
    {"op": "compare", "id": 2, "ref": {"path": ..., "entries": [...]}, "new": {...},
     "rtol": 0.0, "atol": 0.0, "scope": "all"|"events", "memory_mb": 8192|null}
    {"op": "probe", "id": 3}
    {"op": "exit"}

Answers (worker -> parent): {"id": ..., "op": ..., ...} (see worker.py): a run's ``status`` ("ok",
"error", "exit", "memory"), ``entries`` (``"skipped": true`` for a tensor over ``record_mb``) and
``"retire": true`` when it left processes or threads behind; a comparison's ``differences`` and
``not_compared``, or ``"memory": true`` with its ``error``. The parent adds ``output_tail`` and
``output_dropped`` to run answers (the output never travels on this channel). The first line a
worker writes is {"op": "ready", ...} once torch is imported, or {"op": "ready", "error": ...} if it
can't be.
This module is imported on both sides and must stay free of torch.
"""

from __future__ import annotations

import json
from typing import Any

PROTOCOL_VERSION = 1


def encode(message: dict[str, Any]) -> bytes:
    """One message as a line of UTF-8 JSON (non-finite floats are written as null)."""
    return json.dumps(_finite(message), separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    message = json.loads(line.decode("utf-8"))
    if not isinstance(message, dict):
        raise ValueError(f"protocol message is not an object: {line[:200]!r}")
    return message


def _finite(value: Any) -> Any:
    # JSON has no inf/nan; an inf max-abs-diff is explained in the difference's `detail` text.
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
