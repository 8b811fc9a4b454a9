"""What the results cache may never do, seen from outside (`outplace check` in a subprocess): answer an
edited file from before the edit, or answer one policy's question with another policy's results.
Written against the cache's observable behaviour only, so it holds for any cache implementation
(it did: the per-project pickle keyed by size and mtime became a content-keyed JSON cache in the
user's cache directory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# A caller passes a tensor that requires grad: the write breaks backward (reported by default).
CALL = "\n\nf(torch.ones(3, requires_grad=True).exp())\n"
SOURCE = "import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.sigmoid(x)\n    y *= 2\n    return y\n" + CALL
CLONE = "import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.sigmoid(x)\n    y[:, 0] = 0\n    return y\n" + CALL


def cache_home(cwd: Path) -> Path:
    return cwd.parent / f"{cwd.name}-cache"  # outside the project, never the user's own cache


def check(cwd: Path, *args: str) -> str:
    env = {**{k: v for k, v in os.environ.items() if k != "OUTPLACE_NO_CACHE"},
           "OUTPLACE_CACHE_DIR": str(cache_home(cwd))}
    r = subprocess.run([sys.executable, "-m", "outplace", "check", "-q", *args], cwd=cwd, capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode in (0, 1), r.stderr
    return r.stdout


@pytest.mark.parametrize("new", ["y += 2", "y -= 2", "y /= 2"])
def test_a_same_size_edit_is_not_answered_from_the_cache(tmp_path: Path, new: str) -> None:
    path = tmp_path / "m.py"
    path.write_text(SOURCE)
    before = path.stat()
    assert "`y *= ...`" in check(tmp_path, "m.py")
    assert list(cache_home(tmp_path).iterdir()), "the first run filled the cache"
    path.write_text(SOURCE.replace("y *= 2", new))
    assert path.stat().st_size == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))  # a later save, same size
    out = check(tmp_path, "m.py")
    assert f"`y {new[2:4]} ...`" in out and "*=" not in out, out


def test_an_edit_within_the_same_second_with_a_new_mtime_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(SOURCE)
    mtime = path.stat().st_mtime_ns
    check(tmp_path, "m.py")
    path.write_text(SOURCE.replace("y *= 2", "y += 2"))
    os.utime(path, ns=(mtime, mtime + 1))  # one nanosecond later
    assert "`y += ...`" in check(tmp_path, "m.py")


def test_clone_has_its_own_results(tmp_path: Path) -> None:
    (tmp_path / "c.py").write_text(CLONE)
    plain = check(tmp_path, "--unsafe-fixes", "c.py")
    clone = check(tmp_path, "--unsafe-fixes", "--clone", "c.py")
    assert "[*]" not in plain and "[*]" in clone  # with --clone the write has a fix
    assert check(tmp_path, "--unsafe-fixes", "c.py") == plain  # and back, warm
    assert check(tmp_path, "--unsafe-fixes", "--clone", "c.py") == clone


def test_a_deleted_file_is_not_reported_from_the_cache(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(SOURCE)
    (tmp_path / "b.py").write_text(SOURCE)
    assert check(tmp_path, ".").count("OP101") == 2
    (tmp_path / "b.py").unlink()
    out = check(tmp_path, ".")
    assert out.count("OP101") == 1 and "b.py" not in out


def test_an_unusable_cache_location_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(SOURCE)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    env = {**{k: v for k, v in os.environ.items() if k != "OUTPLACE_NO_CACHE"}, "OUTPLACE_CACHE_DIR": str(blocker)}
    for _ in range(2):
        r = subprocess.run([sys.executable, "-m", "outplace", "check", "m.py"], cwd=tmp_path, capture_output=True,
                           text=True, env=env, timeout=120)
        assert r.returncode == 1 and "`y *= ...`" in r.stdout
        assert "Error" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert blocker.read_text() == ""


def test_a_cache_folder_inside_the_project_ignores_itself_in_git(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(SOURCE)
    env = {**{k: v for k, v in os.environ.items() if k not in ("OUTPLACE_NO_CACHE", "OUTPLACE_CACHE_DIR")},
           "XDG_CACHE_HOME": str(cache_home(tmp_path))}  # the user-level key stays out of ~/.cache
    r = subprocess.run([sys.executable, "-m", "outplace", "check", "--cache-dir", "local-cache", "m.py"],
                       cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1, r.stderr
    assert "*" in (tmp_path / "local-cache" / ".gitignore").read_text().splitlines()


def test_an_edit_with_an_older_mtime_is_seen(tmp_path: Path) -> None:
    """`cp -p`, `git checkout` or a restored backup can give an edited file an *earlier* mtime."""
    path = tmp_path / "m.py"
    path.write_text(SOURCE)
    before = path.stat()
    check(tmp_path, "m.py")
    path.write_text(SOURCE.replace("y *= 2", "y -= 2"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns - 5_000_000_000))
    assert "`y -= ...`" in check(tmp_path, "m.py")


def test_a_cache_dir_from_the_environment_is_created_with_its_parents(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(SOURCE)
    nested = tmp_path / "a" / "b" / "cache"
    env = {**{k: v for k, v in os.environ.items() if k != "OUTPLACE_NO_CACHE"}, "OUTPLACE_CACHE_DIR": str(nested)}
    r = subprocess.run([sys.executable, "-m", "outplace", "check", "m.py"], cwd=tmp_path, capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 1
    assert nested.is_dir() and any(p.name != ".gitignore" for p in nested.iterdir())
