"""A pinned corpus of real PyTorch code for benchmarking outplace, fetched from the package registry.

    python benchmarks/corpus.py core|full [--cache-dir DIR]

Wheels are downloaded with `pip download --no-deps` (never CUDA packages, never dependencies) into
`<cache>/wheels/`, their sha256 checked against `benchmarks/corpus.lock.json` (recorded on the first
fetch; commit the file), and only their `.py` files are extracted into `<cache>/corpus/<name>/<package>/`.
Nothing is imported or installed. A package already extracted from the same wheel is skipped, so a
second run is a no-op. Prints the corpus path, the number of files and their size.

Corpora
    core   timm, torchvision, lightning, plus torch/nn and torch/optim from torch   (~900 files)
    full   core + transformers + diffusers + the whole torch package                 (~7,000 files)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LOCK_FILE = HERE / "corpus.lock.json"
DEFAULT_CACHE = REPO / ".bench"


@dataclass(frozen=True)
class Pin:
    name: str  # distribution name, as pip spells it
    version: str
    prefixes: tuple[str, ...] = ()  # archive paths to keep (empty: every .py file in the wheel)
    pip_args: tuple[str, ...] = ()

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def key(self) -> str:
        """Directory name under the corpus; one pin may be extracted with different prefixes per corpus."""
        return self.name


# torchvision ships no pure-Python wheel and no CPU wheel here; any platform's wheel has the same .py files.
_BINARY = ("--only-binary=:all:",)
_TORCH_LOCAL = ()  # pip's find-links (/opt/wheels) holds torch-2.13.0+cpu; `torch==2.13.0` matches it

CORPORA: dict[str, tuple[Pin, ...]] = {
    "core": (
        Pin("timm", "1.0.31"),
        Pin("torchvision", "0.29.2", pip_args=_BINARY),
        Pin("lightning", "2.6.6"),
        Pin("torch", "2.13.0", prefixes=("torch/nn/", "torch/optim/"), pip_args=_TORCH_LOCAL),
    ),
    "full": (
        Pin("timm", "1.0.31"),
        Pin("torchvision", "0.29.2", pip_args=_BINARY),
        Pin("lightning", "2.6.6"),
        Pin("transformers", "5.23.0"),
        Pin("diffusers", "0.42.1"),
        Pin("torch", "2.13.0", pip_args=_TORCH_LOCAL),
    ),
}

# Never let a download drag in an accelerator stack, whatever a future pin's metadata says.
_FORBIDDEN = ("nvidia", "cuda", "cudnn", "triton", "rocm")


class CorpusError(Exception):
    pass


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _norm(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def load_lock(path: Path = LOCK_FILE) -> dict:
    if not path.exists():
        return {"version": 1, "wheels": {}}
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("wheels"), dict):
        raise CorpusError(f"{path}: expected an object with a 'wheels' object")
    for spec, entry in data["wheels"].items():
        if "==" not in spec or not {"file", "sha256"} <= set(entry):
            raise CorpusError(f"{path}: bad entry {spec!r}")
    return data


def save_lock(lock: dict, path: Path = LOCK_FILE) -> None:
    lock["wheels"] = dict(sorted(lock["wheels"].items()))
    path.write_text(json.dumps(lock, indent=2) + "\n")


def _find_wheel(directory: Path, pin: Pin) -> Path | None:
    want = _norm(pin.name)
    for p in sorted(directory.glob("*.whl")):
        parts = p.name.split("-")
        # <name>-<version>[+local]-...: compare the normalised name and the public version.
        if len(parts) >= 3 and _norm(parts[0]) == want and parts[1].split("+")[0] == pin.version:
            return p
    return None


def fetch_wheel(pin: Pin, wheels: Path, lock: dict) -> tuple[Path, bool]:
    """The pinned wheel in `wheels`, downloading it if needed; its hash verified or recorded.

    Returns (path, lock_changed).
    """
    if any(bad in _norm(pin.name) for bad in _FORBIDDEN):
        raise CorpusError(f"{pin.spec}: refusing to fetch an accelerator package")
    wheels.mkdir(parents=True, exist_ok=True)
    entry = lock["wheels"].get(pin.spec)
    whl = (wheels / entry["file"]) if entry and (wheels / entry["file"]).exists() else _find_wheel(wheels, pin)
    if whl is None:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-q", *pin.pip_args, "-d", str(wheels), pin.spec]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise CorpusError(f"{pin.spec}: pip download failed:\n{r.stderr.strip()[-2000:]}")
        whl = _find_wheel(wheels, pin)
        if whl is None:
            raise CorpusError(f"{pin.spec}: pip download produced no matching wheel in {wheels}")
    digest = _sha256(whl)
    if entry is None:
        lock["wheels"][pin.spec] = {"file": whl.name, "sha256": digest}
        return whl, True
    if entry["sha256"] != digest:
        raise CorpusError(f"{pin.spec}: {whl.name} has sha256 {digest}, but {LOCK_FILE.name} pins "
                          f"{entry['sha256']} ({entry['file']}); delete the wheel to re-fetch, or update the lock")
    return whl, False


def extract(whl: Path, digest: str, pin: Pin, dest: Path) -> int:
    """Extract `pin`'s .py files from `whl` into `dest` (replacing it), unless already done. Returns #files."""
    stamp = dest / ".outplace-corpus.json"
    want = {"wheel": whl.name, "sha256": digest, "prefixes": list(pin.prefixes)}
    if stamp.exists():
        try:
            have = json.loads(stamp.read_text())
        except ValueError:
            have = None
        if have and {k: have.get(k) for k in want} == want:
            return int(have.get("files", 0))
    if dest.exists():
        shutil.rmtree(dest)
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    n = 0
    with zipfile.ZipFile(whl) as z:
        for info in z.infolist():
            name = info.filename
            if info.is_dir() or not name.endswith(".py"):
                continue
            if pin.prefixes and not name.startswith(pin.prefixes):
                continue
            parts = Path(name).parts
            if name.startswith("/") or ".." in parts:
                raise CorpusError(f"{whl.name}: unsafe member path {name!r}")
            target = tmp.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
            n += 1
    (tmp / ".outplace-corpus.json").write_text(json.dumps({**want, "files": n}, indent=2) + "\n")
    os.replace(tmp, dest)
    return n


def corpus_stats(root: Path) -> tuple[int, int]:
    files = size = 0
    for p in root.rglob("*.py"):
        files += 1
        size += p.stat().st_size
    return files, size


def build(name: str, cache_dir: Path = DEFAULT_CACHE, lock_file: Path = LOCK_FILE,
          log=lambda msg: print(msg, file=sys.stderr)) -> Path:
    """Fetch and extract corpus `name` under `cache_dir`; returns the corpus directory."""
    if name not in CORPORA:
        raise CorpusError(f"unknown corpus {name!r} (one of: {', '.join(CORPORA)})")
    lock = load_lock(lock_file)
    wheels = cache_dir / "wheels"
    root = cache_dir / "corpus" / name
    root.mkdir(parents=True, exist_ok=True)
    changed = False
    for pin in CORPORA[name]:
        whl, new = fetch_wheel(pin, wheels, lock)
        changed |= new
        if new:  # record as soon as we have it: a later failure must not lose a verified hash
            save_lock(lock, lock_file)
        n = extract(whl, lock["wheels"][pin.spec]["sha256"], pin, root / pin.key)
        log(f"  {pin.spec:<22} {n:>5} .py files  ({whl.name})")
    if changed:
        log(f"recorded new hashes in {lock_file}")
    return root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", choices=sorted(CORPORA))
    ap.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE,
                    help=f"where wheels and extracted corpora live (default: {DEFAULT_CACHE})")
    args = ap.parse_args(argv)
    try:
        root = build(args.corpus, args.cache_dir.resolve())
    except CorpusError as e:
        print(f"corpus.py: error: {e}", file=sys.stderr)
        return 1
    files, size = corpus_stats(root)
    print(root)
    print(f"{files} files, {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
