"""The output formats of `check` (and of the findings `fix` leaves): one function per format.

    text      the finding line, then its hazard and why, indented (the default)
    concise   the finding line only: `path:line:col: CODE [*] message`
    full      the finding line, the source line with a caret under the span, the hazard and why
    grouped   findings under their file's name
    json      one JSON array (the fields of `finding_json`, plus `cell`)
    json-lines  one JSON object per line
    github    GitHub Actions workflow commands (`::error file=...::...`): annotations on the diff
    gitlab    GitLab Code Quality report (a JSON array of Code Climate issues)
    sarif     SARIF 2.1.0, with each rule's metadata from its documentation
    junit     JUnit XML: a test suite per file, a failing test case per finding

Every format carries the hazard level and why where it has room. Positions are 1-based lines and
columns counted in characters; in a notebook, lines count from the top of the finding's cell and
`cell` names it (`train.ipynb:cell 3:2:5`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Callable, Iterable

from outplace import __version__
from outplace.findings import Finding

FORMATS = ("text", "concise", "full", "grouped", "json", "json-lines", "github", "gitlab", "sarif", "junit")
# Formats whose items need the source text (the line under a caret, or each fix's edit).
NEEDS_SOURCE = frozenset({"full", "json", "json-lines", "sarif"})
# Formats read by programs: nothing else may be written to stdout with them.
MACHINE = frozenset({"json", "json-lines", "github", "gitlab", "sarif", "junit"})
INFORMATION_URI = "https://pypi.org/project/outplace/"


@dataclass(frozen=True)
class Item:
    path: str  # as shown (relative to cwd when below it)
    finding: Finding  # positions as the user counts them: in the cell, for a notebook
    cell: int | None = None  # the notebook cell (1-based over all cells); None for a .py file
    line_text: str | None = None  # the finding's first line (for `full`)
    replacement: dict | None = None  # the fix's edit (positions as the finding's), for json and sarif


def located(f: Finding, cells) -> tuple[Finding, int | None]:
    """`f` with positions in its notebook cell (and the cell), or as it is for a .py file. Lines its
    words name ("saved by `exp` (line 13)") are named by cell too."""
    if cells is None:
        return f, None
    cell, line = cells.locate(f.line)
    _, end_line = cells.locate(f.end_line)
    return replace(f, line=line, end_line=end_line, message=cell_lines(f.message, cells),
                   why=cell_lines(f.why, cells)), cell


_LINE_WORDS = re.compile(r"\b(lines?) ([0-9]+)\b")


def cell_lines(text: str, cells) -> str:
    """`line 13` of a notebook's script, in words, as `cell 3, line 7`."""
    if cells is None or "line" not in text:
        return text

    def name(m: re.Match) -> str:
        cell, line = cells.locate(int(m.group(2)))
        return f"cell {cell}, {m.group(1)} {line}"

    return _LINE_WORDS.sub(name, text)


def locate_replacement(replacement: dict | None, cells) -> dict | None:
    if replacement is None or cells is None:
        return replacement
    return {**replacement, "line": cells.locate(replacement["line"])[1],
            "end_line": cells.locate(replacement["end_line"])[1]}


def position(path: str, line: int, col: int, cell: int | None = None) -> str:
    return f"{path}:cell {cell}:{line}:{col}" if cell is not None else f"{path}:{line}:{col}"


def finding_line(path: str, f: Finding, cell: int | None = None) -> str:
    marker = " [*]" if f.fix is not None else ""
    unsafe = " (unsafe fix)" if f.fix is not None and not f.fix.is_safe else ""
    return f"{position(path, f.line, f.col, cell)}: {f.code}{marker} {f.message}{unsafe}"


def finding_json(path: str, f: Finding, replacement: dict | None, cell: int | None = None) -> dict:
    return {
        "code": f.code,
        "path": path,
        "cell": cell,
        "line": f.line,
        "col": f.col,
        "end_line": f.end_line,
        "end_col": f.end_col,
        "message": f.message,
        "hazard": f.hazard,
        "why": f.why,
        "fix": None if f.fix is None else {
            "applicability": f.fix.applicability.value,
            "reasons": list(f.fix.reasons),
        },
        "replacement": replacement,
    }


def why_line(f: Finding) -> str:
    return f"{f.hazard}: {f.why}" if f.why else ""


# Each hazard level's severity in each consumer's words (GitHub workflow commands, SARIF `level`,
# GitLab Code Quality `severity`): a write that breaks backward is an error.
_SEVERITY = {
    "breaks": ("error", "error", "major"),
    "inplace": ("warning", "warning", "minor"),
    "nograd": ("notice", "note", "info"),
}


def _severity(f: Finding, consumer: int) -> str:
    return _SEVERITY.get(f.hazard, _SEVERITY["inplace"])[consumer]


# ---- the formats ----------------------------------------------------------------------------------------------

def render(fmt: str, items: list[Item], files: list[str], style: Callable[..., str] = lambda s, **kw: s) -> str:
    """The whole output of format `fmt` for `items`; `files`: every file scanned (as shown), for the
    formats that list clean files too (junit). `style(text, **typer.style options)` colours text."""
    return _RENDERERS[fmt](items, files, style)


def _text(items: list[Item], files, style) -> str:
    out = []
    for it in items:
        out.append(_styled_line(it, style))
        if it.finding.why:
            out.append(style(f"    {why_line(it.finding)}", dim=True))
    return "".join(line + "\n" for line in out)


def _styled_line(it: Item, style) -> str:
    line = finding_line(it.path, it.finding, it.cell)
    head, _, rest = line.partition(f" {it.finding.code}")
    return style(head, bold=True) + " " + style(it.finding.code, fg="red", bold=True) + rest


def _concise(items: list[Item], files, style) -> str:
    return "".join(_styled_line(it, style) + "\n" for it in items)


def _full(items: list[Item], files, style) -> str:
    out = []
    for it in items:
        f = it.finding
        out.append(_styled_line(it, style))
        if it.line_text is not None:
            text = it.line_text.rstrip("\r\n").expandtabs(1)
            number = str(f.line)
            gutter = " " * len(number)
            end = f.end_col if f.end_line == f.line else len(text) + 1
            width = max(1, end - f.col)
            out.append(style(f"  {gutter} |", fg="blue"))
            out.append(style(f"  {number} |", fg="blue") + f" {text}")
            out.append(style(f"  {gutter} |", fg="blue") + " " + " " * (f.col - 1)
                       + style("^" * width + f" {f.code}", fg="red", bold=True))
        if f.why:
            out.append(style(f"  = {why_line(f)}", dim=True))
        if f.fix is not None and not f.fix.is_safe and f.fix.reasons:
            out.append(style(f"  = unsafe fix: {'; '.join(f.fix.reasons)}", dim=True))
        out.append("")
    return "".join(line + "\n" for line in out)


def _grouped(items: list[Item], files, style) -> str:
    out = []
    current = None
    for it in items:
        if it.path != current:
            if current is not None:
                out.append("")
            current = it.path
            out.append(style(f"{it.path}:", bold=True, underline=True))
        f = it.finding
        where = f"cell {it.cell}:{f.line}:{f.col}" if it.cell is not None else f"{f.line}:{f.col}"
        marker = " [*]" if f.fix is not None else ""
        unsafe = " (unsafe fix)" if f.fix is not None and not f.fix.is_safe else ""
        out.append(f"  {where} {style(f.code, fg='red', bold=True)}{marker} {f.message}{unsafe}")
        if f.why:
            out.append(style(f"      {why_line(f)}", dim=True))
    return "".join(line + "\n" for line in out)


def _json(items: list[Item], files, style) -> str:
    return json.dumps([finding_json(it.path, it.finding, it.replacement, it.cell) for it in items],
                      indent=2, ensure_ascii=False) + "\n"


def _json_lines(items: list[Item], files, style) -> str:
    return "".join(json.dumps(finding_json(it.path, it.finding, it.replacement, it.cell), ensure_ascii=False) + "\n"
                   for it in items)


# GitHub workflow commands: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github(items: list[Item], files, style) -> str:
    out = []
    for it in items:
        f = it.finding
        level = _severity(f, 0)
        title = f"outplace {f.code}" + (f" (cell {it.cell})" if it.cell is not None else "")
        props = [("file", it.path), ("line", str(f.line)), ("endLine", str(f.end_line)), ("col", str(f.col)),
                 ("endColumn", str(f.end_col)), ("title", title)]
        message = finding_line(it.path, f, it.cell) + (f"\n{why_line(f)}" if f.why else "")
        out.append(f"::{level} " + ",".join(f"{k}={_escape_property(v)}" for k, v in props)
                   + "::" + _escape_data(message))
    return "".join(line + "\n" for line in out)


# GitLab Code Quality: https://docs.gitlab.com/ci/testing/code_quality/ (Code Climate issues).
def _gitlab(items: list[Item], files, style) -> str:
    seen: Counter = Counter()
    issues = []
    for it in items:
        f = it.finding
        where = f" (cell {it.cell})" if it.cell is not None else ""
        # Stable across runs while the finding stays: not its line number (an edit above moves it).
        key = (it.path, it.cell, f.code, f.message)
        seen[key] += 1
        fingerprint = hashlib.sha256(json.dumps([*key, seen[key]]).encode()).hexdigest()
        issues.append({
            "type": "issue",
            "check_name": f.code,
            "description": f"{f.code}{where}: {f.message}" + (f" ({why_line(f)})" if f.why else ""),
            "categories": ["Bug Risk"],
            "severity": _severity(f, 2),
            "fingerprint": fingerprint,
            "location": {"path": it.path, "positions": {"begin": {"line": f.line, "column": f.col},
                                                        "end": {"line": f.end_line, "column": f.end_col}}},
        })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _rules() -> list:
    from outplace.codemods import RULES

    return list(RULES)


def _sarif(items: list[Item], files, style) -> str:
    from outplace.rule_docs import rule_markdown, rule_text

    rules = _rules()
    index = {r.code: i for i, r in enumerate(rules)}
    results = []
    for it in items:
        f = it.finding
        region = {"startLine": f.line, "startColumn": f.col, "endLine": f.end_line, "endColumn": f.end_col}
        result = {
            "ruleId": f.code,
            "ruleIndex": index.get(f.code, -1),
            "level": _severity(f, 1),
            "message": {"text": f.message + (f" ({why_line(f)})" if f.why else "")},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(it.path)}, "region": region}}],
            "properties": {"hazard": f.hazard, "why": f.why,
                           "fix": None if f.fix is None else f.fix.applicability.value,
                           **({"cell": it.cell} if it.cell is not None else {})},
        }
        if it.cell is not None:
            result["locations"][0]["message"] = {"text": f"cell {it.cell}"}
        if f.fix is not None and f.fix.reasons:
            result["properties"]["unsafeReasons"] = list(f.fix.reasons)
        if it.replacement is not None and it.cell is None:
            r = it.replacement
            result["fixes"] = [{
                "description": {"text": f"{f.fix.applicability.value} fix" if f.fix else "fix"},
                "artifactChanges": [{"artifactLocation": {"uri": _uri(it.path)}, "replacements": [{
                    "deletedRegion": {"startLine": r["line"], "startColumn": r["col"],
                                      "endLine": r["end_line"], "endColumn": r["end_col"]},
                    "insertedContent": {"text": r["content"]}}]}],
            }]
        results.append(result)
    driver = {
        "name": "outplace", "version": __version__, "informationUri": INFORMATION_URI,
        "rules": [{
            "id": r.code, "name": r.name,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.doc.what},
            "help": {"text": rule_text(r.code), "markdown": rule_markdown(r.code)},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["autograd", "pytorch"]},
        } for r in rules],
    }
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _uri(path: str) -> str:
    from urllib.parse import quote

    return quote(path.replace("\\", "/"))


def _junit(items: list[Item], files: list[str], style) -> str:
    import xml.etree.ElementTree as ET

    by_file: dict[str, list[Item]] = {p: [] for p in files}
    for it in items:
        by_file.setdefault(it.path, []).append(it)
    root = ET.Element("testsuites", name="outplace", tests=str(sum(max(1, len(v)) for v in by_file.values())),
                      failures=str(len(items)))
    for path, found in by_file.items():
        suite = ET.SubElement(root, "testsuite", name=path, tests=str(max(1, len(found))), failures=str(len(found)))
        if not found:
            ET.SubElement(suite, "testcase", name="outplace", classname=path)
            continue
        for it in found:
            f = it.finding
            where = f"cell {it.cell}:{f.line}:{f.col}" if it.cell is not None else f"{f.line}:{f.col}"
            case = ET.SubElement(suite, "testcase", name=f"{f.code} at {where}", classname=path, file=path,
                                 line=str(f.line))
            failure = ET.SubElement(case, "failure", message=f.message, type=f.code)
            failure.text = finding_line(path, f, it.cell) + (f"\n{why_line(f)}" if f.why else "")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


_RENDERERS = {"text": _text, "concise": _concise, "full": _full, "grouped": _grouped, "json": _json,
              "json-lines": _json_lines, "github": _github, "gitlab": _gitlab, "sarif": _sarif, "junit": _junit}
assert set(_RENDERERS) == set(FORMATS)


# ---- statistics ----------------------------------------------------------------------------------------------

def statistics(items: Iterable[Item], as_json: bool) -> str:
    """Counts per rule (`--statistics`): how many findings, how many have a fix."""
    names = {r.code: r.name for r in _rules()}
    counts: Counter = Counter()
    fixable: Counter = Counter()
    for it in items:
        counts[it.finding.code] += 1
        fixable[it.finding.code] += it.finding.fix is not None
    rows = [{"code": c, "name": names.get(c, ""), "count": n, "fixable": fixable[c]}
            for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    if as_json:
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(str(r["count"])) for r in rows), default=1)
    return "".join(f"{r['count']:>{width}}\t{r['code']}\t{'[*] ' if r['fixable'] else ''}{r['name']}"
                   + (f" ({r['fixable']} fixable)" if 0 < r["fixable"] < r["count"] else "") + "\n" for r in rows)
