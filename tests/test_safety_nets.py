"""The guards that keep a user's code safe when something else goes wrong, each forced to fire:

- the engine never hands back a rewrite that does not parse or compile (a rule or libcst bug);
- `fix` never overwrites a file that changed on disk after it was read (an editor saved meanwhile);
- an internal error in one file is that file's one-line error: the run goes on and exits 2.

The faults are injected at the seams front ends use (`outplace.rewrite.rewrite_source`,
`outplace.source.write_source`, the engine functions the runner calls), and the CLI runs in process
(`outplace.cli.main`) so the injection reaches it; with `-j 2` the pool's forked workers inherit it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import outplace.rewrite
import outplace.runner
import outplace.source
from outplace.cli import main
from outplace.engine import check_source, fix_edit, fix_selected, fix_source
from outplace.findings import HAZARDS
from outplace.settings import Settings

# A caller passes a tensor that requires grad: the write breaks backward (reported by default).
CALL = "\n\nf(torch.ones(3, requires_grad=True).exp())\n"
SOURCE = "import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.sigmoid(x)\n    y *= 2\n    return y\n" + CALL
FIXED = SOURCE.replace("y *= 2", "y = y * 2")


def cli(*args: str) -> int:
    with pytest.raises(SystemExit) as stop:
        main([*args, "--no-cache"])
    return stop.value.code


# --- the engine's compile guard ----------------------------------------------------------------

@pytest.mark.parametrize("damage", [
    "\ny = (\n",                    # does not parse
    "\nf(a=1, a=2)\n",              # parses, does not compile: repeated keyword
    "\nreturn 1\n",                 # parses, does not compile: return outside a function
], ids=["parse", "keyword", "return"])
def test_a_rewrite_that_does_not_compile_is_never_returned(monkeypatch, damage: str) -> None:
    real = outplace.rewrite.rewrite_source

    def broken(source, tree, plans, newline="\n"):
        new, landed = real(source, tree, plans, newline)
        return new + damage, landed

    assert fix_source(SOURCE, Settings(hazards=HAZARDS)).output == FIXED  # the fault is what makes the difference
    monkeypatch.setattr(outplace.rewrite, "rewrite_source", broken)
    result = fix_source(SOURCE, Settings(hazards=HAZARDS, unsafe_fixes=True))
    assert result.output == SOURCE and not result.applied and not result.changed
    assert [f.code for f in result.remaining] == ["OP101"]  # still reported, as unfixed
    [finding] = check_source(SOURCE, Settings(hazards=HAZARDS))
    assert fix_edit(SOURCE, finding) is None
    assert fix_selected(SOURCE, [finding]) == (SOURCE, [])


def test_fix_command_leaves_the_file_alone_when_the_rewrite_does_not_compile(monkeypatch, tmp_path, capsys) -> None:
    real = outplace.rewrite.rewrite_source
    monkeypatch.setattr(outplace.rewrite, "rewrite_source",
                        lambda *a, **k: (real(*a, **k)[0] + "\nreturn 1\n", real(*a, **k)[1]))
    path = tmp_path / "m.py"
    path.write_text(SOURCE)
    assert cli("fix", "-j", "1", str(path)) == 1  # the finding remains
    assert path.read_text() == SOURCE
    assert "OP101" in capsys.readouterr().out


def test_a_source_that_never_compiled_is_still_fixed() -> None:
    """The guard compares with the original: code that never compiled (`return` at module level) does
    not block fixes elsewhere in it."""
    source = SOURCE + "\nreturn 0\n"
    assert fix_source(source, Settings(hazards=HAZARDS)).output == FIXED + "\nreturn 0\n"


# --- a file changed between read and write -------------------------------------------------------

@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fix_refuses_to_overwrite_a_file_changed_on_disk(monkeypatch, tmp_path, capsys, jobs: str) -> None:
    files = [tmp_path / f"m{i}.py" for i in range(10)]
    for p in files:
        p.write_text(SOURCE)
    victim = files[3]
    edited = SOURCE.replace("return y", "return y  # edited in the editor meanwhile")
    real = outplace.source.write_source

    def editor_saves_first(original, new_text):
        if Path(original.path).name == victim.name:
            victim.write_text(edited)  # after outplace read it, before it writes
        return real(original, new_text)

    monkeypatch.setattr(outplace.runner, "write_source", editor_saves_first)  # what `fix` writes files (and notebooks) with
    code = cli("fix", "-j", jobs, str(tmp_path))
    err = capsys.readouterr().err
    assert code == 2
    assert victim.read_text() == edited, "the user's edit was overwritten"
    [refusal] = [line for line in err.splitlines() if victim.name in line]
    assert re.search(r"changed .*not (written|overwritten)", refusal), refusal
    assert all(p.read_text() == FIXED for p in files if p != victim)  # the others are fixed


def test_write_source_refuses_a_file_changed_since_it_was_read(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(SOURCE)
    original = outplace.source.read_source(path)
    path.write_text(SOURCE.replace("2", "3"))
    with pytest.raises(outplace.source.SourceError, match=r"changed .*not (written|overwritten)"):
        outplace.source.write_source(original, FIXED)
    assert path.read_text() == SOURCE.replace("2", "3")
    assert not [p for p in tmp_path.iterdir() if p.name != "m.py"], "a temporary file was left behind"


# --- an internal error in one file -------------------------------------------------------------

@pytest.mark.parametrize("command", ["check", "fix"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_internal_error_in_one_file_does_not_stop_the_run(monkeypatch, tmp_path, capsys, command, jobs) -> None:
    files = [tmp_path / f"m{i}.py" for i in range(10)]
    for p in files:
        p.write_text(SOURCE)
    files[5].write_text(SOURCE + "# BOOM\n")

    def faulty(real):
        def engine(source, settings=Settings(hazards=HAZARDS), *, path="<string>", project=None):
            if "BOOM" in source:
                raise KeyError("an engine bug")
            return real(source, settings, path=path, project=project)
        return engine

    monkeypatch.setattr(outplace.runner, "check_source_full", faulty(outplace.runner.check_source_full))
    monkeypatch.setattr(outplace.runner, "fix_source", faulty(outplace.runner.fix_source))
    code = cli(command, "-j", jobs, str(tmp_path))
    out, err = capsys.readouterr()
    assert code == 2
    errors = [line for line in err.splitlines() if "internal error" in line]
    assert errors == [f"{files[5]}: internal error: KeyError: 'an engine bug'"], err
    if command == "check":
        assert out.count("OP101") == 9
    else:
        assert files[5].read_text() == SOURCE + "# BOOM\n"
        assert all(p.read_text() == FIXED for p in files if p != files[5])
