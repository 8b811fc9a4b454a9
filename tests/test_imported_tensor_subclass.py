"""A Tensor subclass another file of the run defines, used in this one (called, or made with
`as_subclass`), may do anything in its methods (`__torch_function__` clamping after in-place ops:
eval49 D7): no fix in the file is safe. A plain class imported the same way changes nothing."""

from __future__ import annotations

import textwrap
from pathlib import Path

from outplace.analysis.project import ProjectIndex
from outplace.engine import check_source
from outplace.settings import HAZARDS, Settings

TENSORS = """
    import torch


    class Clamped(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return super().__torch_function__(func, types, args, kwargs or {})


    class Plain:
        pass
    """

MAIN = """
    import torch
    from tensors import {name}


    def f(x):
        h = torch.sigmoid(x)
        h.mul_(2)
        return h


    def run():
        x = torch.randn(3, requires_grad=True)
        return f(x.as_subclass({name})) if {name} is not None else None
    """


def _fix(tmp_path: Path, name: str):
    (tmp_path / "tensors.py").write_text(textwrap.dedent(TENSORS))
    main = tmp_path / "main.py"
    main.write_text(textwrap.dedent(MAIN.format(name=name)))
    project = ProjectIndex.for_run(tmp_path, [tmp_path / "tensors.py", main])
    found = [f for f in check_source(main.read_text(), Settings(hazards=HAZARDS), path=str(main), project=project)
             if "mul_" in f.message]
    assert len(found) == 1, found
    return found[0].fix


def test_an_imported_tensor_subclass_makes_no_fix_safe(tmp_path: Path) -> None:
    fix = _fix(tmp_path, "Clamped")
    assert fix is not None and not fix.is_safe
    assert any("Tensor subclass" in r for r in fix.reasons), fix.reasons


def test_an_imported_plain_class_changes_nothing(tmp_path: Path) -> None:
    fix = _fix(tmp_path, "Plain")
    assert fix is not None and fix.is_safe, fix
