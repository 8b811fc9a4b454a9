"""Each rule's documentation as text (`outplace rule CODE`) and Markdown (SARIF's rule help), from
the rule's `doc` (What it does / Why is this bad? / Example / Use instead / Fix safety)."""

from __future__ import annotations


def _sections(code: str) -> tuple[object, list[tuple[str, str, bool]]]:
    from outplace.codemods import RULES_BY_CODE

    rule = RULES_BY_CODE[code]
    d = rule.doc
    return rule, [("What it does", d.what, False), ("Why is this bad?", d.why, False), ("Example", d.example, True),
                  ("Use instead", d.use_instead, True), ("Fix safety", d.fix_safety, False)]


def rule_text(code: str) -> str:
    rule, sections = _sections(code)
    indent = lambda s: "\n".join("    " + ln for ln in s.splitlines())  # noqa: E731
    body = "".join(f"## {title}\n{indent(text) if is_code else text}\n\n" for title, text, is_code in sections)
    return f"# {rule.code} {rule.name}\n\n{rule.summary}.\n\n" + body.rstrip("\n") + "\n"


def rule_markdown(code: str) -> str:
    rule, sections = _sections(code)
    body = "".join(f"## {title}\n" + (f"```python\n{text.rstrip()}\n```" if is_code else text) + "\n\n"
                   for title, text, is_code in sections)
    return f"# {rule.code} {rule.name}\n\n{rule.summary}.\n\n" + body.rstrip("\n") + "\n"
