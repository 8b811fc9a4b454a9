"""The results cache is only a shortcut: `check` says the same with and without it, with 1 job or
many, whatever is in the cache directory; and it never runs anything it finds there."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def check(cwd: Path, *args: str, env: dict | None = None, preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "outplace", "check", "--format", "json", *args],
                          cwd=cwd, capture_output=True, timeout=300, env={**os.environ, **(env or {})},
                          preexec_fn=preexec)


@pytest.fixture
def cache(tmp_path_factory, monkeypatch) -> Path:
    """This test's own user cache directory."""
    directory = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setenv("OUTPLACE_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def tree(tmp_path: Path, cache: Path) -> Path:
    # Enough files to go through the process pool; fixtures give varied findings (and one bad file).
    for i, src in enumerate(sorted((REPO / "fixtures" / "rules").glob("OP*/*.py"))):
        if not src.name.endswith(".fixed.py"):
            (tmp_path / f"f{i:02d}_{src.name}").write_text(src.read_text())
    (tmp_path / "broken.py").write_text("import torch\ndef f(:\n")
    return tmp_path


def _cache_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("check-*.json"))


def test_same_results_with_and_without_cache_and_jobs(tree: Path, cache: Path) -> None:
    reference = check(tree, "--no-cache", "-j", "1")
    assert reference.returncode == 2  # findings and one unparsable file
    assert reference.stdout.count(b'"code"') > 20
    assert not _cache_files(cache)
    for args in (["--no-cache", "-j", "2"], ["-j", "2"], ["-j", "1"], ["-j", "2"]):  # cold, then warm cache
        r = check(tree, *args)
        assert (r.returncode, r.stdout) == (reference.returncode, reference.stdout), args
        assert r.stderr.splitlines()[-1] == reference.stderr.splitlines()[-1]
    assert len(_cache_files(cache)) == 1
    assert not (tree / ".outplace_cache").exists()  # nothing in the project


def test_changed_file_is_analysed_again(tree: Path) -> None:
    target = next(tree.glob("*clean_*.py"))
    assert check(tree).returncode == 2
    target.write_text(target.read_text() + "\n\ndef extra(x: torch.Tensor):\n    y = torch.exp(x)\n    y += 1\n    return y\n\n\n"
                      "extra(torch.ones(3, requires_grad=True))\n")
    r = check(tree)
    assert f'"path": "{target.name}"'.encode() in r.stdout


def test_an_edit_that_keeps_size_and_mtime_is_seen(tree: Path) -> None:
    target = tree / "edited.py"
    call = "\n\nf(torch.ones(3, requires_grad=True))\n"
    target.write_text("import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.exp(x)\n    y = y + 1\n    return y\n" + call)
    assert b'"edited.py"' not in check(tree).stdout
    st = target.stat()
    target.write_text("import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.exp(x)\n    y += 1   \n    return y\n" + call)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert target.stat().st_size == st.st_size and target.stat().st_mtime_ns == st.st_mtime_ns
    assert b'"path": "edited.py"' in check(tree).stdout


def test_settings_have_their_own_cache(tree: Path) -> None:
    everything = check(tree)
    only_op101 = check(tree, "--select", "OP101")
    assert only_op101.stdout != everything.stdout
    assert b'"code": "OP102"' not in only_op101.stdout
    assert check(tree).stdout == everything.stdout


class _Plant:
    """Unpickling this creates the file `path`: proof that a cache was loaded with pickle."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_crafted_pickle_in_the_repository_or_the_cache_is_never_loaded(tree: Path, cache: Path,
                                                                         tmp_path_factory) -> None:
    from outplace.cache import fingerprint
    from outplace.settings import Settings

    reference = check(tree, "--no-cache")
    marker = tmp_path_factory.mktemp("marker") / "pwned"
    payload = pickle.dumps({"x": _Plant(marker)})
    name = f"check-{fingerprint(Settings())}"
    for directory in (tree / ".outplace_cache", cache):  # where outplace used to look, and its cache now
        directory.mkdir(exist_ok=True)
        (directory / f"{name}.pickle").write_bytes(payload)
    check(tree)  # creates the real cache file: overwrite it with the payload too
    for f in _cache_files(cache):
        f.write_bytes(payload)
    for _ in range(2):
        r = check(tree)
        assert not marker.exists(), "a cache file was unpickled"
        assert (r.returncode, r.stdout) == (reference.returncode, reference.stdout)


def _sign(cache: Path, body: bytes) -> bytes:
    key = (cache / "key").read_bytes()
    return hmac.new(key, body, hashlib.sha256).hexdigest().encode() + b"\n" + body


BAD_ENTRIES = [
    "not a list", [["OP101", "msg", 1, 1, 1, 1, "safe"]], [["OP101", "msg", True, 1, 1, 1, "safe", []]],
    [["OP101", "msg", 1, 1, 1, 1, "maybe", []]], [["OP101", 7, 1, 1, 1, 1, None, []]],
    [["OP101", "msg", 1, 1, 1, 1, "safe", [3]]], [["OP101", "msg", 1.5, 1, 1, 1, None, []]], {"deep": [[[]]]},
    [None], [[]], [["OP101", "msg", 1, 1, 1, 1, "safe", [], "breaks", "why"]],  # (8 fields of the old format: 10)
    [["OP101", "msg", 1, 1, 1, 1, "safe", [], "harmless", ""]], [["OP101", "msg", 1, 1, 1, 1, None, [], "breaks", 3]],
]
BAD_SIDE_FIELDS = [{"hidden": -1}, {"hidden": True}, {"hidden": "2"}, {"deps": []}, {"deps": {"a.py": 3}}, {"deps": None}]


def test_malformed_entries_are_misses(tree: Path, cache: Path) -> None:
    reference = check(tree, "--no-cache")
    check(tree)
    [path] = _cache_files(cache)
    data = json.loads(path.read_bytes().partition(b"\n")[2])
    entries = list(data["entries"].values())
    assert len(entries) > len(BAD_ENTRIES)
    for i, entry in enumerate(entries):
        entry["findings"] = BAD_ENTRIES[i % len(BAD_ENTRIES)]
        if i % 3 == 0:
            entry["error"] = 42  # not a string either
        if i % 2 == 0:
            entry["findings"] = []  # well formed findings, but a malformed count or dependency map
            entry.update(BAD_SIDE_FIELDS[i % len(BAD_SIDE_FIELDS)])
    path.write_bytes(_sign(cache, json.dumps(data).encode()))  # signed with the user's key: only the shape is wrong
    for _ in range(2):  # the run after repairs the cache
        r = check(tree)
        assert (r.returncode, r.stdout) == (reference.returncode, reference.stdout)


def test_a_corrupt_cache_file_is_a_miss(tree: Path, cache: Path) -> None:
    reference = check(tree, "--no-cache")
    check(tree)
    [path] = _cache_files(cache)
    for content in (b"not a pickle", b"", b"\n", b"\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7f",
                    _sign(cache, b"{"), _sign(cache, b"[" * 100000), _sign(cache, b'{"format": 1, "entries": []}'),
                    _sign(cache, b"\xff\xfe\x00")):
        path.write_bytes(content)
        r = check(tree)
        assert (r.returncode, r.stdout) == (reference.returncode, reference.stdout), content[:80]
        assert r.stderr.splitlines()[-1] == reference.stderr.splitlines()[-1]


def test_a_cache_this_user_did_not_write_cannot_hide_a_finding(tree: Path, cache: Path) -> None:
    """A cache that says "no findings" for every file, well formed but not signed with this user's key
    (shipped in a repository, copied from another machine), is ignored as a whole."""
    reference = check(tree, "--no-cache")
    check(tree)
    [path] = _cache_files(cache)
    data = json.loads(path.read_bytes().partition(b"\n")[2])
    for entry in data["entries"].values():
        entry["findings"], entry["error"] = [], None
    body = json.dumps(data).encode()
    path.write_bytes(hmac.new(b"another user's key" * 4, body, hashlib.sha256).hexdigest().encode() + b"\n" + body)
    r = check(tree)
    assert (r.returncode, r.stdout) == (reference.returncode, reference.stdout)


def test_default_location_is_the_user_cache_directory(tree: Path, tmp_path_factory) -> None:
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if k not in ("OUTPLACE_CACHE_DIR", "XDG_CACHE_HOME")}
    r = subprocess.run([sys.executable, "-m", "outplace", "check", "."], cwd=tree, capture_output=True,
                       env={**env, "HOME": str(home)}, timeout=300)
    assert r.returncode == 2
    assert len(list((home / ".cache" / "outplace").glob("check-*.json"))) == 1
    xdg = tmp_path_factory.mktemp("xdg")
    r = subprocess.run([sys.executable, "-m", "outplace", "check", "."], cwd=tree, capture_output=True,
                       env={**env, "HOME": str(home), "XDG_CACHE_HOME": str(xdg)}, timeout=300)
    assert len(list((xdg / "outplace").glob("check-*.json"))) == 1
    assert not any(p.name.startswith(".outplace") for p in tree.iterdir())


def test_cache_dir_from_environment(tree: Path, tmp_path_factory) -> None:
    elsewhere = tmp_path_factory.mktemp("cache")
    check(tree, env={"OUTPLACE_CACHE_DIR": str(elsewhere)})
    assert len(_cache_files(elsewhere)) == 1
    assert not (tree / ".outplace_cache").exists()


def test_a_project_local_cache_only_on_request(tree: Path, cache: Path) -> None:
    r = check(tree, "--cache-dir", str(tree / "here"))
    assert r.returncode == 2 and len(_cache_files(tree / "here")) == 1
    assert (tree / "here" / ".gitignore").read_text() == "# Created by outplace.\n*\n"
    assert not (cache / "here").exists()
    env = {k: v for k, v in os.environ.items() if k != "OUTPLACE_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(cache)
    (tree / "pyproject.toml").write_text('[tool.outplace]\ncache-dir = ".outplace_cache"\n')
    r = subprocess.run([sys.executable, "-m", "outplace", "check", "."], cwd=tree, capture_output=True, env=env,
                       timeout=300)
    assert r.returncode == 2 and len(_cache_files(tree / ".outplace_cache")) == 1
    for escape in ("../elsewhere", "/tmp/elsewhere", "~/elsewhere"):
        (tree / "pyproject.toml").write_text(f'[tool.outplace]\ncache-dir = "{escape}"\n')
        r = subprocess.run([sys.executable, "-m", "outplace", "check", "."], cwd=tree, capture_output=True,
                           env=env, timeout=300)
        assert r.returncode == 2 and b"must be a relative path inside the project" in r.stderr, escape


def _no_file_writes() -> None:
    """Writing any byte to a file fails (EFBIG), as on a full disk; the signal that comes with it is ignored."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_a_full_disk_leaves_no_half_written_cache_file(tree: Path, cache: Path) -> None:
    local = tree / "local-cache"
    reference = check(tree, "--cache-dir", str(local))  # makes this user's key
    assert (local / ".gitignore").exists()
    for p in local.iterdir():
        p.unlink()
    r = check(tree, "--cache-dir", str(local), preexec=_no_file_writes)
    assert (r.returncode, r.stdout) == (reference.returncode, reference.stdout)
    assert sorted(p.name for p in local.iterdir()) == []  # no empty .gitignore, no temporary file
    assert sorted(p.name for p in cache.iterdir()) == ["key"]


def _project(tmp_path: Path) -> Path:
    """A package whose model file calls a module defined in another file: the finding in
    `model.py` is `breaks` only because of what `blocks.py` does."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "blocks.py").write_text(
        "import torch\nfrom torch import nn\n\n\nclass Gate(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.lin = nn.Linear(4, 4)\n\n    def forward(self, x):\n"
        "        return torch.sigmoid(self.lin(x))\n")
    (tmp_path / "pkg" / "model.py").write_text(
        "from torch import nn\n\nfrom .blocks import Gate\n\n\nclass Model(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.gate = Gate()\n\n"
        "    def forward(self, inp):\n        y = self.gate(inp)\n        y[y < 0.5] = 0\n        return y.sum()\n")
    return tmp_path


def test_an_edit_in_a_dependency_is_seen_by_the_files_that_read_it(tmp_path: Path, cache: Path) -> None:
    """The cache keeps, with each file's findings, the files its analysis read and their digests:
    `model.py` is unchanged, but what `Gate` returns changed, so its cached answer is stale."""
    root = _project(tmp_path)
    for _ in range(2):  # cold, then from the cache
        r = check(root, "pkg")
        assert json.loads(r.stdout)[0]["hazard"] == "breaks" and "torch.sigmoid" in json.loads(r.stdout)[0]["why"]
    [path] = _cache_files(cache)
    entries = json.loads(path.read_bytes().partition(b"\n")[2])["entries"]
    assert any(str(root / "pkg" / "blocks.py") in e["deps"] for e in entries.values())
    blocks = root / "pkg" / "blocks.py"
    blocks.write_text(blocks.read_text().replace("torch.sigmoid(self.lin(x))", "self.lin(x) * 2"))
    r = check(root, "pkg")
    assert json.loads(r.stdout) == [] and r.returncode == 0
    assert "1 inplace finding hidden" in r.stderr.decode()
    assert json.loads(check(root, "pkg", "--hazard", "breaks,inplace").stdout)[0]["hazard"] == "inplace"
    blocks.write_text(blocks.read_text().replace("self.lin(x) * 2", "torch.sigmoid(self.lin(x))"))
    assert json.loads(check(root, "pkg").stdout)[0]["hazard"] == "breaks"


def test_the_hidden_count_comes_back_from_the_cache(tmp_path: Path, cache: Path) -> None:
    root = _project(tmp_path)
    blocks = root / "pkg" / "blocks.py"
    blocks.write_text(blocks.read_text().replace("torch.sigmoid(self.lin(x))", "self.lin(x) * 2"))
    cold, warm = check(root, "pkg"), check(root, "pkg")
    assert _cache_files(cache)
    assert cold.stderr == warm.stderr and b"1 inplace finding hidden" in warm.stderr
