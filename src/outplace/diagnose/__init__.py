"""``outplace diagnose``: run a program, find the in-place write that broke (or would break) backward.

    outplace diagnose train.py -- --epochs 1       # the program's own arguments after --
    outplace diagnose -m pytest tests/test_model.py
    outplace diagnose --fix train.py               # fix the culprit lines only, then run again

The program runs in a child Python process (`runner`) with a recorder installed (`recorder`, the only
module here that imports torch, and only in that child):

- a ``TorchDispatchMode`` sees every aten op whose schema writes an argument (``Tensor(a!)``) and, when
  the written storage holds a tensor some backward saved, logs the write: op, version before, the
  nearest source line outside torch and outplace, the ``nn.Module`` path, the line that constructed an
  ``inplace=True`` module, whether it ran inside ``torch/optim``;
- saved-tensor hooks record, for every tensor saved for backward, its storage, its version and the
  source line of the forward op; at unpack they do the version check themselves (while the hooks are
  active autograd skips its own) and match a stale tensor with the logged writes to its storage.

Exit codes: 0 no problem found; 1 culprit found (or an in-place autograd error outplace could not
attribute); 2 the program failed for another reason (its own traceback is shown) or bad usage.

Modules: `command` (the CLI function, no torch), `runner` (child process, parent side), `child` (the
child's entry point), `recorder` (torch side), `report` (grouping, text and JSON), `fixes` (culprit lines
to engine fixes and diffs).
"""

from __future__ import annotations

__all__ = ["diagnose", "diagnose_cli"]


def __getattr__(name: str):
    # Lazy: the child process imports this package and must not pay for typer.
    if name in __all__:
        from outplace.diagnose import command

        return getattr(command, name)
    raise AttributeError(name)
