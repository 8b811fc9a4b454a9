"""The command-line contract, exercised the way a user runs it: a real `outplace` process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Each function has a caller that passes a tensor requiring grad: the writes break backward (the
# default `breaks` level). Without a caller, nothing would show that `x` requires grad.
CALL = "\n\nf(torch.ones(3, requires_grad=True).exp())\n"
BAD = "import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.sigmoid(x)\n    y *= 2\n    return y\n" + CALL
GOOD = "import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.sigmoid(x)\n    y = y * 2\n    return y\n" + CALL
UNSAFE = "import torch\n\n\ndef f(x: torch.Tensor):\n    x += 1\n    return x\n" + CALL
G = "\n\ndef g(x: torch.Tensor):\n    h = x.exp()\n    h.add_(1)\n    return h\n\n\ng(torch.ones(3, requires_grad=True))\n"


def run(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "outplace", *args], cwd=cwd, input=stdin,
                          capture_output=True, env=env, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text(BAD)
    (tmp_path / "pkg" / "clean.py").write_text(GOOD)
    return tmp_path


def test_check_lists_findings_and_exits_1(project: Path) -> None:
    r = run("check", "pkg", cwd=project)
    assert r.returncode == 1
    assert r.stdout.decode() == ("pkg/model.py:6:5: OP101 [*] `y *= ...` modifies tensor `y` in place; "
                                 "use `y = y * ...`\n    breaks: `y` was saved by `torch.sigmoid` as its result "
                                 "(line 5); this write makes backward fail\n")
    assert "2 files scanned; 1 finding." in r.stderr.decode()


def test_check_clean_exits_0(project: Path) -> None:
    r = run("check", "pkg/clean.py", cwd=project)
    assert r.returncode == 0 and r.stdout == b""


def test_check_json_fields(project: Path) -> None:
    r = run("check", "--format", "json", "pkg", cwd=project)
    assert r.returncode == 1
    [item] = json.loads(r.stdout)
    assert item["code"] == "OP101" and item["path"] == "pkg/model.py"
    assert (item["line"], item["col"]) == (6, 5)
    assert item["fix"]["applicability"] == "safe"
    assert item["replacement"]["content"] == "y = y * 2"
    assert (item["replacement"]["line"], item["replacement"]["col"]) == (6, 5)


def test_fix_writes_safe_fixes_and_second_run_changes_nothing(project: Path) -> None:
    r = run("fix", "pkg", cwd=project)
    assert r.returncode == 0, r.stderr
    assert (project / "pkg" / "model.py").read_text() == GOOD
    assert "1 changed; 1 fix applied (OP101 1)" in r.stderr.decode()
    again = run("fix", "pkg", cwd=project)
    assert again.returncode == 0 and "0 changed" in again.stderr.decode()


def test_unsafe_fix_held_back_unless_asked(project: Path) -> None:
    target = project / "pkg" / "arg.py"
    target.write_text(UNSAFE)
    r = run("fix", "pkg/arg.py", cwd=project)
    assert r.returncode == 1  # the finding remains
    assert target.read_text() == UNSAFE
    assert "1 unsafe fix held back (use --unsafe-fixes)" in r.stderr.decode()
    assert "(unsafe fix)" in r.stdout.decode()
    r = run("fix", "--unsafe-fixes", "pkg/arg.py", cwd=project)
    assert r.returncode == 0 and "x = x + 1" in target.read_text()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_writes_nothing_and_git_apply_accepts_it(project: Path) -> None:
    crlf = project / "pkg" / "crlf.py"
    crlf.write_bytes(BAD.replace("\n", "\r\n").encode())
    noeol = project / "pkg" / "noeol.py"
    noeol.write_text(BAD.rstrip("\n"))
    before = {p: p.read_bytes() for p in (project / "pkg").iterdir()}
    r = run("fix", "--diff", "pkg", cwd=project)
    assert r.returncode == 1
    assert {p: p.read_bytes() for p in (project / "pkg").iterdir()} == before
    patch = r.stdout
    assert b"--- a/pkg/model.py\n+++ b/pkg/model.py\n" in patch
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "apply", "--check", "-"], cwd=project, input=patch, check=True)
    subprocess.run(["git", "apply", "-"], cwd=project, input=patch, check=True)
    assert (project / "pkg" / "model.py").read_text() == GOOD
    assert crlf.read_bytes() == GOOD.replace("\n", "\r\n").encode()
    assert noeol.read_text() == GOOD.rstrip("\n")


def test_fix_check_lists_files(project: Path) -> None:
    r = run("fix", "--check", "pkg", cwd=project)
    assert r.returncode == 1 and r.stdout.decode() == "would fix pkg/model.py\n"
    assert (project / "pkg" / "model.py").read_text() == BAD


def test_stdin_filter(project: Path) -> None:
    r = run("fix", "-", "--stdin-filename", "pkg/model.py", cwd=project, stdin=BAD.encode())
    assert r.returncode == 0 and r.stdout.decode() == GOOD
    (project / "pyproject.toml").write_text('[tool.outplace]\nextend-exclude = ["gen_*.py"]\nforce-exclude = true\n')
    r = run("fix", "-", "--stdin-filename", "pkg/gen_model.py", cwd=project, stdin=BAD.encode())
    assert r.returncode == 0 and r.stdout.decode() == BAD  # excluded: echoed back unchanged


def test_bad_files_get_one_line_and_the_run_goes_on(project: Path) -> None:
    (project / "pkg" / "broken.py").write_text("import torch\ndef f(:\n")
    (project / "pkg" / "latin.py").write_bytes(b"import torch\nx = '\xff'\n")
    r = run("fix", "pkg", cwd=project)
    assert r.returncode == 2
    err = r.stderr.decode().splitlines()
    assert any(line.startswith("pkg/broken.py:2:") and "syntax error" in line for line in err)
    assert any(line.startswith("pkg/latin.py: ") and "utf-8" in line for line in err)
    assert (project / "pkg" / "model.py").read_text() == GOOD  # the good file was still fixed
    assert (project / "pkg" / "broken.py").read_text() == "import torch\ndef f(:\n"


def test_bom_crlf_tabs_and_untouched_bytes_survive(project: Path) -> None:
    body = ("# -*- coding: utf-8 -*-\r\nimport torch\r\n\r\n\r\ndef f(x: torch.Tensor):\r\n"
            "\ty = torch.exp(x)  # é\r\n\ty += 1\r\n\treturn y\r\n\r\n\r\nf(torch.ones(1, requires_grad=True))\r\n")
    path = project / "pkg" / "bom.py"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    assert run("fix", "pkg/bom.py", cwd=project).returncode == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + body.replace("\ty += 1", "\ty = y + 1").encode()


def test_select_ignore_and_config(project: Path) -> None:
    (project / "pkg" / "m.py").write_text(BAD + G)
    assert set(_codes(run("check", "--select", "OP102", "pkg/m.py", cwd=project))) == {"OP102"}
    assert set(_codes(run("check", "--ignore", "OP102", "pkg/m.py", cwd=project))) == {"OP101"}
    (project / "pyproject.toml").write_text('[tool.outplace]\nignore = ["OP101"]\n')
    assert set(_codes(run("check", "pkg/m.py", cwd=project))) == {"OP102"}
    (project / "pyproject.toml").write_text('[tool.outplace]\nselekt = ["OP101"]\n')
    r = run("check", "pkg/m.py", cwd=project)
    assert r.returncode == 2 and "unknown key 'selekt'" in r.stderr.decode()


def _codes(r: subprocess.CompletedProcess) -> list[str]:
    return [line.split()[1] for line in r.stdout.decode().splitlines() if not line.startswith(" ")]


def test_usage_errors_exit_2(project: Path) -> None:
    assert run("check", "does/not/exist", cwd=project).returncode == 2
    assert run("check", "--bogus", cwd=project).returncode == 2
    assert run("rule", "OP999", cwd=project).returncode == 2


def test_rule_docs(project: Path) -> None:
    listing = run("rules", cwd=project).stdout.decode().splitlines()
    assert [line.split()[0] for line in listing] == [f"OP10{i}" for i in range(1, 8)]
    for code in ("OP101", "OP104", "OP107"):
        text = run("rule", code, cwd=project).stdout.decode()
        for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
            assert heading in text


def test_libcst_codemod_command_runs_as_documented_and_keeps_encodings(project: Path) -> None:
    """Exactly the README's command (the repository's config, its formatter included), on files
    with a BOM and a latin-1 cookie too: written back byte for byte as `outplace fix` writes them."""
    repo = Path(__file__).resolve().parent.parent
    shutil.copy(repo / ".libcst.codemod.yaml", project / ".libcst.codemod.yaml")
    files = {"model.py": BAD.encode()}
    for name in ("bom", "latin1"):
        head, encoding, comment = ENCODED[name]
        files[f"{name}.py"] = head + BAD.replace("return y", f"return y  # {comment}").encode(encoding)
    for name, data in files.items():
        (project / "pkg" / name).write_bytes(data)
    r = subprocess.run([sys.executable, "-m", "libcst.tool", "codemod", "commands.AugmentedAssignCommand", "pkg/"],
                       cwd=project, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    for name, data in files.items():
        assert (project / "pkg" / name).read_bytes() == data.replace(b"y *= 2", b"y = y * 2"), name
    assert (project / "pkg" / "clean.py").read_text() == GOOD


ENCODED = {
    # name: (bytes before the code, encoding of the body, a non-ASCII comment in that encoding)
    "bom": (b"\xef\xbb\xbf", "utf-8", "é ü"),
    "latin1": (b"# -*- coding: latin-1 -*-\n", "latin-1", "é ü ÿ"),
    "cp1252": (b"# coding: cp1252\n", "cp1252", "€ “quoted”"),
    "shift_jis": (b"# coding: shift_jis\n", "shift_jis", "日本語の表"),
}


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize("name", ENCODED)
def test_diff_of_non_utf8_and_bom_files_applies_with_git(project: Path, name: str) -> None:
    head, encoding, comment = ENCODED[name]
    # The change is within the patch's context of line 1: the BOM or the cookie is in the hunk.
    body = f"import torch  # {comment}\ny = torch.zeros(3, requires_grad=True).exp()\ny *= 2  # {comment}\n"
    path = project / "pkg" / f"{name}.py"
    path.write_bytes(head + body.encode(encoding))
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    r = run("fix", "--diff", f"pkg/{name}.py", cwd=project)
    assert r.returncode == 1, r.stderr
    assert comment.encode(encoding) in r.stdout  # the patch is in the file's encoding, not UTF-8
    subprocess.run(["git", "apply", "-"], cwd=project, input=r.stdout, check=True)
    expected = head + body.replace("y *= 2", "y = y * 2").encode(encoding)
    assert path.read_bytes() == expected
    path.write_bytes(head + body.encode(encoding))
    assert run("fix", f"pkg/{name}.py", cwd=project).returncode == 0
    assert path.read_bytes() == expected  # `fix` writes what the patch said


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_of_cr_only_file_applies_with_git(project: Path) -> None:
    path = project / "pkg" / "cr.py"
    path.write_bytes(BAD.replace("\n", "\r").encode())
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    r = run("fix", "--diff", "pkg/cr.py", cwd=project)
    assert r.returncode == 1
    subprocess.run(["git", "apply", "-"], cwd=project, input=r.stdout, check=True)
    assert path.read_bytes() == GOOD.replace("\n", "\r").encode()


# ---- exit codes and messages ---------------------------------------------------------------------------------

def _no_dac_override() -> None:
    """Root reads any directory: drop the two capabilities that let it (from the bounding set, so the
    exec'd outplace runs without them), so that a mode-000 directory cannot be listed."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _can_drop_capabilities() -> bool:
    try:
        return subprocess.run(["true"], preexec_fn=_no_dac_override).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="Linux capabilities / permissions")
def test_an_unreadable_directory_is_an_error_naming_it_and_the_run_goes_on(project: Path) -> None:
    locked = project / "pkg" / "locked"
    locked.mkdir()
    (locked / "hidden.py").write_text(BAD)
    locked.chmod(0)
    preexec = None
    if os.geteuid() == 0:
        if not _can_drop_capabilities():
            locked.chmod(0o755)
            pytest.skip("root, and capabilities cannot be dropped here")
        preexec = _no_dac_override
    try:
        for args in (["check", "pkg"], ["check", "pkg/locked", "pkg/model.py"], ["fix", "--diff", "pkg"]):
            r = subprocess.run([sys.executable, "-m", "outplace", *args, "--no-cache"], cwd=project, capture_output=True,
                               env={**os.environ, "NO_COLOR": "1"}, timeout=120, preexec_fn=preexec)
            err = r.stderr.decode()
            assert r.returncode == 2, (args, err)
            assert "pkg/locked: cannot list directory: [Errno 13] Permission denied" in err
            assert "1 path could not be read" in err
            assert b"pkg/model.py" in r.stdout  # the rest was processed
    finally:
        locked.chmod(0o755)


def test_a_symlink_loop_or_an_unreachable_path_is_one_error_line_and_the_run_goes_on(project: Path) -> None:
    (project / "loop.py").symlink_to("loop.py")
    r = run("check", "--no-cache", "loop.py", "pkg/model.py/inside.py", "missing.py", "pkg", cwd=project)
    err = r.stderr.decode().splitlines()
    assert r.returncode == 2
    assert "loop.py: a symbolic link loop (too many levels of symbolic links)" in err
    assert "pkg/model.py/inside.py: cannot access: [Errno 20] Not a directory" in err
    assert "missing.py: no such file or directory" in err
    assert r.stdout.decode().startswith("pkg/model.py:6:5: OP101")  # the other paths were processed
    assert err[-1] == "2 files scanned; 1 finding; 3 paths could not be read."


def test_interactive_answered_no_everywhere_applies_nothing_and_exits_1(project: Path) -> None:
    (project / "pkg" / "two.py").write_text(BAD + G)
    before = {p: p.read_bytes() for p in (project / "pkg").iterdir()}
    r = run("fix", "--interactive", "--no-cache", "pkg", cwd=project, stdin=b"n\nn\nn\nn\n")
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert {p: p.read_bytes() for p in (project / "pkg").iterdir()} == before
    assert err.splitlines()[-1] == "3 files scanned; 0 changed; 3 fixes declined; no fix applied; 3 findings left."
    assert "applied (" not in err
    # model.py: n; two.py: y to its first hunk, q at its second: one fix applied, two declined.
    r = run("fix", "--interactive", "--no-cache", "pkg", cwd=project, stdin=b"n\ny\nq\n")
    assert r.returncode == 1
    assert r.stderr.decode().splitlines()[-1] == ("3 files scanned; 1 changed; 1 fix applied (OP101 1); "
                                                  "2 fixes declined; 2 findings left.")
    assert "y = y * 2" in (project / "pkg" / "two.py").read_text() and "h.add_(1)" in (project / "pkg" / "two.py").read_text()


def test_stdin_exits_like_the_same_file_given_by_path(project: Path) -> None:
    (project / "pkg" / "arg.py").write_text(UNSAFE)
    for name, text in (("pkg/arg.py", UNSAFE), ("pkg/model.py", BAD)):
        for args in ([], ["--diff"], ["--check"]):
            by_path = run("fix", *args, "--no-cache", name, cwd=project)
            (project / name).write_text(text)  # undo what `fix` wrote
            by_stdin = run("fix", *args, "-", "--stdin-filename", name, cwd=project, stdin=text.encode())
            assert by_stdin.returncode == by_path.returncode, (name, args, by_stdin.stderr)
            assert by_stdin.stderr.splitlines()[-1] == by_path.stderr.splitlines()[-1], (name, args)
        by_path = run("check", "--no-cache", name, cwd=project)
        by_stdin = run("check", "-", "--stdin-filename", name, cwd=project, stdin=text.encode())
        assert by_stdin.returncode == by_path.returncode == 1


def test_diff_reports_held_back_fixes_like_fix_and_check(project: Path) -> None:
    (project / "pkg" / "both.py").write_text(BAD + "\n\n" + UNSAFE.split("\n\n\n", 1)[1].replace("def f", "def g").replace("\nf(", "\ng("))
    (project / "pkg" / "arg.py").write_text(UNSAFE)  # nothing safe to fix: answered from the cache
    r = run("check", "pkg", cwd=project)  # fills the cache
    assert "2 unsafe fixes held back (use --unsafe-fixes)" in r.stderr.decode()
    for args in (["--diff"], ["--check"], []):
        r = run("fix", *args, "pkg", cwd=project)
        assert "2 unsafe fixes held back (use --unsafe-fixes)" in r.stderr.decode(), (args, r.stderr)


def test_op102_message_keeps_the_arguments(project: Path) -> None:
    (project / "m.py").write_text("import torch\n\n\ndef f(x: torch.Tensor, g: torch.Tensor):\n"
                                  "    h = torch.tanh(x)\n    h.mul_(g)\n    h.add_(g, alpha=2).clamp_(0, 1)\n    return h\n\n\n"
                                  "f(torch.ones(3, requires_grad=True), torch.ones(3))\n")
    out = run("check", "--no-cache", "m.py", cwd=project).stdout.decode()
    assert "`h.mul_(g)` modifies tensor `h` in place; use `h = h.mul(g)`" in out
    assert "`h.add_(g, alpha=2).clamp_(0, 1)` modifies tensor `h` in place; use `h = h.add(g, alpha=2).clamp(0, 1)`" in out


# ---- hazard levels -----------------------------------------------------------------------------------

HARMLESS = ("import torch\nfrom torch import nn\n\n\nclass M(nn.Module):\n    def __init__(self):\n"
            "        super().__init__()\n        self.lin = nn.Linear(4, 4)\n\n    def forward(self, x):\n"
            "        z = self.lin(x) * 2\n        z[z < 0] = 0\n        return z\n")


def test_check_says_why_a_write_breaks_backward(project: Path) -> None:
    r = run("check", "pkg/model.py", cwd=project)
    assert r.stdout.decode().splitlines() == [
        "pkg/model.py:6:5: OP101 [*] `y *= ...` modifies tensor `y` in place; use `y = y * ...`",
        "    breaks: `y` was saved by `torch.sigmoid` as its result (line 5); this write makes backward fail",
    ]
    [item] = json.loads(run("check", "--format", "json", "pkg/model.py", cwd=project).stdout)
    assert item["hazard"] == "breaks" and item["why"] == r.stdout.decode().splitlines()[1].split(": ", 1)[1]


@pytest.mark.parametrize("args", [["--hazard", "breaks,inplace"], ["--hazards", "inplace"], ["--select", "OP,inplace"],
                                  ["--select", "inplace"]])
def test_inplace_findings_are_opt_in_and_counted_when_hidden(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "m.py").write_text(HARMLESS)
    hidden = run("check", "m.py", cwd=tmp_path)
    assert (hidden.returncode, hidden.stdout) == (0, b"")
    assert hidden.stderr.decode().strip() == ("1 file scanned; 0 findings; about 1 inplace finding hidden "
                                             "(--hazard breaks,inplace shows them).")
    shown = run("check", "--format", "json", *args, "m.py", cwd=tmp_path)
    [item] = json.loads(shown.stdout)
    assert shown.returncode == 1 and item["hazard"] == "inplace" and item["code"] == "OP106"
    assert "nothing saved it for backward" in item["why"]
    assert "hidden" not in shown.stderr.decode()


def test_hazards_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(HARMLESS)
    (tmp_path / "pyproject.toml").write_text("[tool.outplace]\nselect = ['OP', 'inplace']\n")
    assert run("check", "m.py", cwd=tmp_path).returncode == 1
    r = run("check", "m.py", "--hazard", "breaks", cwd=tmp_path)
    assert r.returncode == 1, "`select` in the file adds its level to an explicit --hazard"
    r = run("check", "m.py", "--select", "OP", cwd=tmp_path)
    assert r.returncode == 0, "the command line's --select replaces the file's (hazard words with it)"
    r = run("check", "m.py", "--hazard", "bogus", cwd=tmp_path)
    assert r.returncode == 2 and "'bogus' is not a hazard level (breaks, inplace, nograd)" in r.stderr.decode()


def test_fix_leaves_inplace_writes_alone_by_default(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(HARMLESS)
    r = run("fix", "m.py", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "m.py").read_text() == HARMLESS
    assert "1 inplace finding hidden" in r.stderr.decode()
    r = run("fix", "--hazard", "breaks,inplace", "m.py", cwd=tmp_path)
    assert r.returncode == 0 and "z = torch.where(z < 0, 0, z)" in (tmp_path / "m.py").read_text()


def test_a_finding_that_depends_on_another_file_of_the_project(tmp_path: Path) -> None:
    """`self.gate(inp)` is a module defined in another file: what it returns (a sigmoid's output)
    comes from the project index, read, never imported."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("raise SystemExit('imported!')\n")
    (tmp_path / "pkg" / "blocks.py").write_text(
        "import torch\nfrom torch import nn\n\n\nclass Gate(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.lin = nn.Linear(4, 4)\n\n    def forward(self, x):\n"
        "        return torch.sigmoid(self.lin(x))\n")
    (tmp_path / "pkg" / "model.py").write_text(
        "from torch import nn\n\nfrom pkg.blocks import Gate\n\n\nclass Model(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.gate = Gate()\n\n"
        "    def forward(self, inp):\n        y = self.gate(inp)\n        y[y < 0.5] = 0\n        return y.sum()\n")
    for args in (["pkg/model.py"], ["pkg"], ["-"]):
        stdin = (tmp_path / "pkg" / "model.py").read_bytes() if args == ["-"] else None
        extra = ["--stdin-filename", "pkg/model.py"] if args == ["-"] else []
        r = run("check", "--no-cache", *extra, *args, cwd=tmp_path, stdin=stdin)
        assert r.returncode == 1, (args, r.stderr)
        assert "`y` was saved by `torch.sigmoid` as its result inside `Gate.forward`" in r.stdout.decode()
