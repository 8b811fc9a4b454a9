"""discovery.py: which files a run processes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from outplace.discovery import GitIgnore, is_excluded, iter_python_files
from outplace.settings import Settings


def make(root: Path, *files: str, content: str = "x = 1\n") -> None:
    for f in files:
        p = root / f
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)


def found(root: Path, settings: Settings = Settings(), paths=None) -> list[str]:
    paths = [root] if paths is None else [root / p for p in paths]
    return [p.relative_to(root).as_posix() for p in iter_python_files(paths, settings, root=root)]


def test_walks_py_and_pyi_sorted(tmp_path):
    make(tmp_path, "b.py", "a.py", "c.pyi", "notes.txt", "d.pyc", "pkg/z.py", "pkg/sub/y.py", "pkg/a.py", "x.PY")
    assert found(tmp_path) == ["a.py", "b.py", "c.pyi", "pkg/a.py", "pkg/sub/y.py", "pkg/z.py"]


def test_yields_paths_in_the_form_given(tmp_path, monkeypatch):
    make(tmp_path, "src/a.py")
    monkeypatch.chdir(tmp_path)
    assert list(iter_python_files(["src"], Settings())) == [Path("src/a.py")]


def test_default_excludes_prune(tmp_path):
    make(
        tmp_path,
        "keep.py",
        ".venv/lib/python3.11/site-packages/torch/x.py",
        "venv/x.py",
        "build/lib/x.py",
        "dist/x.py",
        "lib/site-packages/x.py",
        ".git/hooks/x.py",
        "node_modules/x.py",
        "pkg/build/x.py",
        "pkg/keep.py",
    )
    assert found(tmp_path) == ["keep.py", "pkg/keep.py"]


def test_hidden_directories_are_walked(tmp_path):
    make(tmp_path, ".hidden/a.py", ".config/b.py")
    assert found(tmp_path) == [".config/b.py", ".hidden/a.py"]


def test_extend_exclude_and_exclude(tmp_path):
    make(tmp_path, "a.py", "gen/b.py", "tests/fixtures/c.py", "tests/t.py", "build/d.py", "x_pb2.py")
    s = Settings(extend_exclude=("gen", "tests/fixtures", "*_pb2.py"))
    assert found(tmp_path, s) == ["a.py", "tests/t.py"]
    # `exclude` replaces the defaults: build/ is walked again.
    s = Settings(exclude=("gen",))
    assert found(tmp_path, s) == ["a.py", "build/d.py", "tests/fixtures/c.py", "tests/t.py", "x_pb2.py"]


def test_relative_glob_is_anchored_at_root(tmp_path):
    make(tmp_path, "tests/fixtures/a.py", "other/tests/fixtures/b.py")
    s = Settings(extend_exclude=("tests/fixtures",))
    assert found(tmp_path, s) == ["other/tests/fixtures/b.py"]
    s = Settings(extend_exclude=("*/tests/fixtures/",))
    assert found(tmp_path, s) == ["tests/fixtures/a.py"]


def test_explicit_files_are_always_yielded(tmp_path):
    make(tmp_path, "build/gen.py", "script")
    assert found(tmp_path, paths=["build/gen.py", "script"]) == ["build/gen.py", "script"]


def test_force_exclude_applies_to_explicit_paths(tmp_path):
    make(tmp_path, "build/gen.py", "a.py", ".venv/x.py")
    s = Settings(force_exclude=True)
    assert found(tmp_path, s, paths=["build/gen.py", "a.py", ".venv"]) == ["a.py"]
    assert is_excluded(tmp_path / "build/gen.py", s, root=tmp_path)
    assert not is_excluded(tmp_path / "a.py", s, root=tmp_path)


def test_explicit_excluded_directory_is_walked_without_force_exclude(tmp_path):
    make(tmp_path, "build/gen.py", "build/dist/x.py")
    assert found(tmp_path, paths=["build"]) == ["build/gen.py"]


def test_force_exclude_ignores_directories_above_root(tmp_path):
    project = tmp_path / "build" / "project"
    make(project, "a.py")
    s = Settings(force_exclude=True)
    assert [p.name for p in iter_python_files([project / "a.py", project], s, root=project)] == ["a.py"]


def test_missing_path_raises_before_anything_is_yielded(tmp_path):
    make(tmp_path, "a.py")
    with pytest.raises(FileNotFoundError) as info:
        iter_python_files([tmp_path / "a.py", tmp_path / "missing.py"], Settings(), root=tmp_path)
    assert info.value.filename == str(tmp_path / "missing.py")
    assert "missing.py" in str(info.value)


def test_each_file_once(tmp_path):
    make(tmp_path, "a.py", "pkg/b.py")
    assert found(tmp_path, paths=["a.py", ".", "pkg", "a.py"]) == ["a.py", "pkg/b.py"]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_symlinks(tmp_path):
    make(tmp_path, "real/a.py", "outside/b.py")
    (tmp_path / "linkdir").symlink_to(tmp_path / "outside", target_is_directory=True)
    (tmp_path / "real" / "alias.py").symlink_to(tmp_path / "real" / "a.py")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    (tmp_path / "outside_file.py").symlink_to(tmp_path / "outside" / "b.py")
    s = Settings(extend_exclude=("outside",))
    # linkdir is not followed; real/alias.py is the same file as real/a.py; the dangling link is skipped.
    assert found(tmp_path, s) == ["outside_file.py", "real/a.py"]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_a_file_reached_through_a_symlinked_top_and_by_name_is_found_once(tmp_path):
    make(tmp_path, "pkg/sub/b.py")
    (tmp_path / "via").symlink_to(tmp_path / "pkg", target_is_directory=True)
    # A symlinked directory named on the command line is walked; below it, keys are real paths.
    assert found(tmp_path, paths=["via", "pkg/sub/b.py", "pkg"]) == ["via/sub/b.py"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can list anything")
def test_unlistable_directory_goes_to_on_error(tmp_path):
    make(tmp_path, "a.py", "locked/b.py")
    (tmp_path / "locked").chmod(0)
    errors = []
    try:
        got = list(iter_python_files([tmp_path], Settings(), root=tmp_path, on_error=errors.append))
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert got == [tmp_path / "a.py"]
    assert len(errors) == 1 and isinstance(errors[0], PermissionError)


# --- .gitignore ---------------------------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path):
    (tmp_path / ".git" / "info").mkdir(parents=True)
    return tmp_path


def test_gitignore_basic_and_comments(repo):
    make(repo, "a.py", "secret.py", "gen_x.py", "gen_y.pyi", "#notcomment.py", "sub/secret.py")
    (repo / ".gitignore").write_text("# a comment\nsecret.py\n\ngen_*\n\\#notcomment.py\n")
    assert found(repo) == ["a.py"]


def test_gitignore_negation(repo):
    make(repo, "gen/a.py", "gen/keep.py", "out_1.py", "out_keep.py")
    (repo / ".gitignore").write_text("gen/*\n!gen/keep.py\nout_*.py\n!out_keep.py\n")
    assert found(repo) == ["gen/keep.py", "out_keep.py"]


def test_gitignore_cannot_reinclude_below_an_ignored_directory(repo):
    make(repo, "gen/keep.py", "gen/b.py")
    (repo / ".gitignore").write_text("gen/\n!gen/keep.py\n")
    assert found(repo) == []


def test_gitignore_anchoring(repo):
    make(repo, "tmp.py", "pkg/tmp.py", "docs/conf.py", "pkg/docs/conf.py")
    (repo / ".gitignore").write_text("/tmp.py\ndocs/conf.py\n")
    # "/tmp.py" and "docs/conf.py" (a slash in the middle) only match relative to the .gitignore.
    assert found(repo) == ["pkg/docs/conf.py", "pkg/tmp.py"]


def test_gitignore_dir_only(repo):
    make(repo, "cache/a.py", "pkg/cache/b.py", "pkg/cache.py")
    (repo / ".gitignore").write_text("cache/\n")
    assert found(repo) == ["pkg/cache.py"]


def test_gitignore_double_star(repo):
    make(repo, "a/gen/x.py", "a/b/c/gen/y.py", "gen/z.py", "keep/x.py", "logs/deep/er/x.py", "src/m/t_test.py")
    (repo / ".gitignore").write_text("**/gen/*.py\nlogs/**\nsrc/**/t_*.py\n")
    assert found(repo) == ["keep/x.py"]


def test_gitignore_question_mark_and_classes(repo):
    make(repo, "a1.py", "a2.py", "ab.py", "b1.py", "c1.py", "x.py")
    (repo / ".gitignore").write_text("a[0-9].py\n[!ax]?.py\n")
    assert found(repo) == ["ab.py", "x.py"]


def test_nested_gitignore_overrides_parent(repo):
    make(repo, "pkg/a_gen.py", "pkg/sub/b_gen.py", "c_gen.py", "pkg/sub/other.py")
    (repo / ".gitignore").write_text("*_gen.py\n")
    (repo / "pkg" / "sub" / ".gitignore").write_text("!b_gen.py\nother.py\n")
    assert found(repo) == ["pkg/sub/b_gen.py"]


def test_nested_gitignore_patterns_are_relative_to_their_directory(repo):
    make(repo, "pkg/x.py", "pkg/sub/x.py", "x.py")
    (repo / "pkg" / ".gitignore").write_text("/x.py\n")
    assert found(repo) == ["pkg/sub/x.py", "x.py"]


def test_git_info_exclude(repo):
    make(repo, "a.py", "local.py")
    (repo / ".git" / "info" / "exclude").write_text("local.py\n")
    assert found(repo) == ["a.py"]
    # A .gitignore negation beats info/exclude (it has higher precedence).
    (repo / ".gitignore").write_text("!local.py\n")
    assert found(repo) == ["a.py", "local.py"]


def test_gitignore_of_the_repo_top_applies_when_walking_a_subdirectory(repo):
    make(repo, "pkg/gen.py", "pkg/a.py")
    (repo / ".gitignore").write_text("pkg/gen.py\n")
    got = list(iter_python_files([repo / "pkg"], Settings(), root=repo / "pkg"))
    assert got == [repo / "pkg" / "a.py"]


def test_gitignore_outside_a_repository_applies_from_root(tmp_path):
    make(tmp_path, "a.py", "gen.py")
    (tmp_path / ".gitignore").write_text("gen.py\n")
    assert found(tmp_path) == ["a.py"]


def test_respect_gitignore_false(repo):
    make(repo, "a.py", "gen.py")
    (repo / ".gitignore").write_text("gen.py\n")
    assert found(repo, Settings(respect_gitignore=False)) == ["a.py", "gen.py"]


def test_explicit_gitignored_file(repo):
    make(repo, "gen/x.py")
    (repo / ".gitignore").write_text("gen/\n")
    assert found(repo, paths=["gen/x.py"]) == ["gen/x.py"]
    assert found(repo, Settings(force_exclude=True), paths=["gen/x.py"]) == []


def test_gitignore_trailing_spaces_and_escapes(repo):
    make(repo, "a.py", "b.py", "!bang.py")
    (repo / ".gitignore").write_text("a.py   \n\\!bang.py\n")
    assert found(repo) == ["b.py"]


def test_gitignore_matcher_directly(repo):
    (repo / ".gitignore").write_text("*.log\n!keep.log\n/build/\n")
    gi = GitIgnore(repo)
    assert gi.ignored(repo / "x.log", False)
    assert not gi.ignored(repo / "keep.log", False)
    assert gi.ignored(repo / "build", True)
    assert not gi.ignored(repo / "build", False)
    assert not gi.ignored(repo / "pkg" / "build", True)
