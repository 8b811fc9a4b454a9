"""config.py: [tool.outplace] in pyproject.toml, overridden by the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from outplace.config import ConfigError, find_project_root, load_settings, validate_rule_code
from outplace.settings import DEFAULT_EXCLUDES, Settings


def pyproject(root: Path, body: str) -> Path:
    p = root / "pyproject.toml"
    p.write_text(body)
    return p


# --- find_project_root --------------------------------------------------------------------------------------


def test_project_root_is_nearest_pyproject(tmp_path, monkeypatch):
    pyproject(tmp_path, "[project]\nname = 'x'\n")
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "m.py").write_text("")
    monkeypatch.chdir("/")
    assert find_project_root([tmp_path / "src" / "pkg" / "m.py"]) == tmp_path
    assert find_project_root([tmp_path / "src" / "pkg"]) == tmp_path


def test_project_root_nested_pyproject_wins(tmp_path):
    pyproject(tmp_path, "")
    sub = tmp_path / "sub"
    sub.mkdir()
    pyproject(sub, "")
    (sub / "a.py").write_text("")
    assert find_project_root([sub / "a.py"]) == sub


def test_project_root_uses_common_parent(tmp_path):
    pyproject(tmp_path, "")
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        pyproject(tmp_path / d, "")
    assert find_project_root([tmp_path / "a", tmp_path / "b"]) == tmp_path
    assert find_project_root([tmp_path / "a", tmp_path / "a"]) == tmp_path / "a"


def test_project_root_falls_back_to_cwd(tmp_path, monkeypatch):
    inner = tmp_path / "x"
    inner.mkdir()
    monkeypatch.chdir(inner)
    if any((d / "pyproject.toml").is_file() for d in (tmp_path, *tmp_path.parents)):
        pytest.skip("a pyproject.toml above the temporary directory")
    assert find_project_root([inner]) == inner
    assert find_project_root([]) == inner


def test_project_root_relative_paths(tmp_path, monkeypatch):
    pyproject(tmp_path, "")
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path / "src")
    assert find_project_root(["."]) == tmp_path


# --- load_settings ------------------------------------------------------------------------------------------


def test_no_pyproject_gives_defaults(tmp_path):
    assert load_settings(tmp_path) == Settings()


def test_pyproject_without_table_gives_defaults(tmp_path):
    pyproject(tmp_path, "[project]\nname = 'x'\n[tool.black]\nline-length = 100\n")
    assert load_settings(tmp_path) == Settings()


def test_all_keys_kebab_case(tmp_path):
    pyproject(
        tmp_path,
        """
[tool.outplace]
select = ["OP1", "OP201"]
ignore = ["OP105"]
unsafe-fixes = true
clone = true
exclude = ["gen"]
extend-exclude = ["third_party/*"]
respect-gitignore = false
force-exclude = true
""",
    )
    assert load_settings(tmp_path) == Settings(
        select=("OP1", "OP201"),
        ignore=("OP105",),
        unsafe_fixes=True,
        clone=True,
        exclude=("gen",),
        extend_exclude=("third_party/*",),
        respect_gitignore=False,
        force_exclude=True,
    )


def test_snake_case_accepted(tmp_path):
    pyproject(tmp_path, "[tool.outplace]\nunsafe_fixes = true\nextend_exclude = ['x']\n")
    s = load_settings(tmp_path)
    assert s.unsafe_fixes is True
    assert s.extend_exclude == ("x",)
    assert s.exclude == DEFAULT_EXCLUDES  # extend-exclude keeps the defaults


def test_both_spellings_is_an_error(tmp_path):
    pyproject(tmp_path, "[tool.outplace]\nunsafe_fixes = true\nunsafe-fixes = false\n")
    with pytest.raises(ConfigError, match="same key"):
        load_settings(tmp_path)


def test_overrides_win_and_none_is_skipped(tmp_path):
    pyproject(tmp_path, "[tool.outplace]\nselect = ['OP1']\nunsafe-fixes = true\n")
    s = load_settings(tmp_path, select=["OP2"], unsafe_fixes=None, clone=True)
    assert s.select == ("OP2",)
    assert s.unsafe_fixes is True
    assert s.clone is True


def test_bad_override_is_reported_as_command_line(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, select=["E501"])
    assert str(info.value).startswith("command line: 'select': 'E501' is not a rule code")


def test_unknown_override_is_a_programming_error(tmp_path):
    with pytest.raises(TypeError):
        load_settings(tmp_path, selekt=["OP"])


def test_unknown_key(tmp_path, monkeypatch):
    pyproject(tmp_path, "[tool.outplace]\nselekt = ['OP1']\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert str(info.value) == "pyproject.toml: [tool.outplace] unknown key 'selekt'"
    assert info.value.key == "selekt"


def test_message_names_the_file_when_elsewhere(tmp_path, monkeypatch):
    pyproject(tmp_path, "[tool.outplace]\nselekt = ['OP1']\n")
    monkeypatch.chdir("/")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'pyproject.toml'}: ")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("select = 'OP1'", "'select' must be a list of strings, not 'OP1'"),
        ("select = [1]", "'select' must be a list of strings"),
        ("unsafe-fixes = 'yes'", "'unsafe-fixes' must be true or false, not 'yes'"),
        ("respect_gitignore = 1", "'respect-gitignore' must be true or false"),
        ("exclude = {a = 1}", "'exclude' must be a list of strings"),
        ("select = ['E501']", "'select': 'E501' is not a rule code (OP followed by up to 3 digits)"),
        ("ignore = ['OP1234']", "'ignore': 'OP1234' is not a rule code"),
        ("ignore = ['op101']", "'ignore': 'op101' is not a rule code"),
        ("ignore = ['']", "'ignore': '' is not a rule code"),
        ("select = ['harmless']", "'select': 'harmless' is not a rule code (OP followed by up to 3 digits) "
                                  "or a hazard level (breaks, inplace, nograd)"),
        ("hazards = ['inplace', 'minor']", "'hazards': 'minor' is not a hazard level (breaks, inplace, nograd)"),
        ("hazards = 'inplace'", "'hazards' must be a list of strings"),
    ],
)
def test_wrong_types_and_codes(tmp_path, monkeypatch, body, expected):
    pyproject(tmp_path, f"[tool.outplace]\n{body}\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    msg = str(info.value)
    assert msg.startswith("pyproject.toml: [tool.outplace] ")
    assert expected in msg
    assert "\n" not in msg


def test_table_must_be_a_table(tmp_path, monkeypatch):
    pyproject(tmp_path, "[tool]\noutplace = 1\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^pyproject.toml: \[tool.outplace\] must be a table$"):
        load_settings(tmp_path)


def test_toml_syntax_error_is_one_line(tmp_path, monkeypatch):
    pyproject(tmp_path, "[tool.outplace]\nselect = ['OP1', = 2]\nclone = true\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    msg = str(info.value)
    assert msg.startswith("pyproject.toml: invalid TOML: ")
    assert "line" in msg
    assert "\n" not in msg


def test_toml_not_utf8(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.outplace]\n# \xff\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^pyproject.toml: not valid utf-8 \(byte 0xff at offset 18\)$"):
        load_settings(tmp_path)


def test_pyproject_is_a_directory(tmp_path):
    (tmp_path / "pyproject.toml").mkdir()
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path)


def test_validate_rule_code():
    assert all(validate_rule_code(c) for c in ("OP", "OP1", "OP10", "OP101"))
    assert not any(validate_rule_code(c) for c in ("O", "OP1000", "OPX", "op1", " OP1", "OP1 ", 1, None))


# --- hazard levels ------------------------------------------------------------------------------------------


def test_hazards_default_to_breaks(tmp_path):
    assert load_settings(tmp_path).hazards == ("breaks",)


@pytest.mark.parametrize(
    ("table", "overrides", "select", "ignore", "hazards"),
    [
        ("hazards = ['breaks', 'inplace']", {}, ("OP",), (), ("breaks", "inplace")),
        ("hazards = ['INPLACE']", {}, ("OP",), (), ("inplace",)),
        # A hazard word in `select` adds its level; a select of hazard words alone keeps every rule.
        ("select = ['OP', 'inplace']", {}, ("OP",), (), ("breaks", "inplace")),
        ("select = ['inplace']", {}, ("OP",), (), ("breaks", "inplace")),
        ("select = ['OP101', 'inplace']", {}, ("OP101",), (), ("breaks", "inplace")),
        # ... and in `ignore` removes it.
        ("hazards = ['breaks', 'inplace']\nignore = ['breaks', 'OP105']", {}, ("OP",), ("OP105",), ("inplace",)),
        # The command line's select replaces the file's, hazard words with it.
        ("select = ['OP', 'inplace']", {"select": ("OP1",)}, ("OP1",), (), ("breaks",)),
        ("", {"select": ("OP", "inplace")}, ("OP",), (), ("breaks", "inplace")),
        ("select = ['OP', 'inplace']", {"hazards": ("breaks",)}, ("OP",), (), ("breaks", "inplace")),
        ("", {"hazards": ("inplace", "breaks")}, ("OP",), (), ("breaks", "inplace")),
        ("hazards = ['all']", {}, ("OP",), (), ("breaks", "inplace", "nograd")),
        ("hazards = ['breaks', 'all']", {}, ("OP",), (), ("breaks", "inplace", "nograd")),
        ("", {"select": ("nograd",)}, ("OP",), (), ("breaks", "nograd")),
    ],
)
def test_hazard_levels_from_config_and_select(tmp_path, table, overrides, select, ignore, hazards):
    pyproject(tmp_path, f"[tool.outplace]\n{table}\n")
    s = load_settings(tmp_path, **overrides)
    assert (s.select, s.ignore, s.hazards) == (select, ignore, hazards)
