"""The differential harness behind ``outplace verify``: run a script and its rewrite, compare, judge.

    outplace verify examples/                       # rewrite each file in memory, run both, a verdict per case
    outplace verify bug.py --against bug_fixed.py   # compare with a hand-made rewrite
    outplace verify fixtures/ --device all --json report.json

Two ways to write a case
------------------------
*Script mode* (any file): the file runs top to bottom as ``__main__`` and calls ``.backward()``
itself. The harness records the forward value of every tensor handed to ``Tensor.backward``,
``torch.autograd.backward`` or ``torch.autograd.grad`` (``backward#1``, ``grad#1.output[0]``...;
``autograd.grad``'s results too), and when the script ends the tensors, numbers and ``nn.Module``
parameters/buffers its globals name (``x``, ``losses[2]``, ``model.fc.weight``) and the ``.grad``
of every leaf that requires grad (``x.grad``, ``model.fc.weight.grad``; leaves that only live
inside functions are named after the script's local variables at the backward call, or else by
their place in the autograd graph, ``backward#1.leaf[0]``).

*Entry mode* (the file defines ``def outplace_case():`` at top level): the file is executed as
module ``__outplace_case__`` (so an ``if __name__ == "__main__":`` block does not run), then
``outplace_case()`` is called with no arguments. It returns a tensor, or a tuple/list/dict of
tensors (nesting two deep; numbers are recorded too): the forward values ``output``,
``output[0]``, ``output['logits']``. The harness then calls ``torch.autograd.backward`` on
``t.sum()`` of every returned floating-point tensor that requires grad, and records the ``.grad``
of every leaf that requires grad that is a local variable of ``outplace_case`` at its return or a
module global (named after it: ``w.grad``, ``model.fc.weight.grad``). Don't call ``.backward()``
on the returned tensors yourself in entry mode.

Every run (original, rewritten, oracle) happens in a warm worker process, never in the CLI process:
fresh namespace, seeds fixed (``random``, ``torch``, numpy), deterministic algorithms
(``warn_only=True``), a per-run timeout and (on CPU) a memory cap that the record comparison runs
under too. A crash, hang, ``sys.exit``, running out of memory or an exception in user code is an
outcome, not a harness failure; ``sys.exit(0)`` counts as running to the end. On ``--device cuda``
the worker calls ``torch.set_default_device("cuda")`` before running the script: tensors created
with an explicit ``device="cpu"`` or from numpy stay on the CPU.

User code stays in its box: each worker runs under a keeper that owns its process tree (a child
subreaper, so ``setsid`` and double forks do not escape); what a script leaves running is killed
after its run, a timeout kills the whole tree, and SIGINT/SIGTERM/SIGHUP to ``outplace verify`` kill
every tree before it exits. A run's output is kept as its first and last few kB; each run records at
most ``RECORD_MB`` of tensors, and a case's records are deleted once it is compared.

Modules: `command` (the CLI function), `cases` (which files, which mode), `pipeline` (schedule,
compare, decide), `runner` (worker pool, parent side of the protocol), `protocol` (wire format),
`keeper` (owner of one process tree), `proctree` (finding and killing process trees; signals),
`worker` (child process), `record` (what a run records, in the child), `tensordiff` (tensor
comparison, in the child), `compare` (verdict logic), `results` (data), `report` (output).
`diagnose` starts its programs under the same keeper.
"""

from __future__ import annotations

__all__ = ["verify", "verify_cli"]


def __getattr__(name: str):
    # Lazy: workers import this package and must not pay for typer/rich.
    if name in __all__:
        from outplace.harness import command

        return getattr(command, name)
    raise AttributeError(name)
