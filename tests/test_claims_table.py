"""tests/README.md maps README claims to tests: every test it names must exist, so the table cannot
point at a test that was renamed or removed."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_every_test_the_claims_table_names_exists() -> None:
    text = (TESTS / "README.md").read_text(encoding="utf-8")
    named = re.findall(r"`(test_\w+\.py)(?:::(\w+\*?))?", text)
    assert len(named) > 40
    missing = []
    for file, name in named:
        path = TESTS / file
        if not path.exists():
            missing.append(file)
        elif name and not re.search(rf"def {name.replace('*', '')}", path.read_text(encoding="utf-8")):
            missing.append(f"{file}::{name}")
    for name in re.findall(r"`::(\w+)`", text):  # `::name` continues the file named before it
        if not any(re.search(rf"def {name}\b", p.read_text(encoding="utf-8")) for p in TESTS.glob("test_*.py")):
            missing.append(f"::{name}")
    assert not missing, missing
