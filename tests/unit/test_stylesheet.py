"""Our stylesheets are well formed: every block closes where it should.

A missing `}` is not an error to a browser: everything after it silently becomes part of
the block above (once, every rule after a phone-only `@media` applied to phones only).
We write no nested rules, so a block may only sit inside an at-rule (`@media`...).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "stgy" / "web" / "static"
SHEETS = sorted(STATIC.glob("*.css"))


def misplaced_blocks(css: str) -> list[str]:
    """What is wrong with the blocks of `css`: a `}` closing nothing, a block left open, a
    rule inside a rule, a block inside a block inside an at-rule."""
    css = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), css, flags=re.S)
    css = re.sub(r'"[^"\n]*"|\'[^\'\n]*\'', '""', css)
    wrong: list[str] = []
    stack: list[str] = []
    head = ""
    line = 1
    for char in css:
        if char == "\n":
            line += 1
        if char == "{":
            name = head.split(";")[-1].split("}")[-1].strip()
            if stack and (len(stack) > 1 or not stack[-1].startswith("@")):
                wrong.append(f"line {line}: `{name}` opens inside `{stack[-1]}`")
            stack.append(name)
            head = ""
        elif char == "}":
            if not stack:
                wrong.append(f"line {line}: a `}}` closes nothing")
            else:
                stack.pop()
            head = ""
        else:
            head += char
    wrong.extend(f"`{name}` is never closed" for name in stack)
    return wrong


def test_the_check_finds_a_missing_brace() -> None:
    sheet = "a { color: red; }\n@media (max-width: 30rem) {\n  b { top: 0; }\n.c { top: 1; }\n"
    assert misplaced_blocks(sheet) == ["`@media (max-width: 30rem)` is never closed"]
    assert misplaced_blocks(".a { top: 0;\n.b { top: 1; }\n}") == ["line 2: `.b` opens inside `.a`"]
    assert misplaced_blocks("a { top: 0; } }") == ["line 1: a `}` closes nothing"]


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda p: p.name)
def test_every_block_closes_where_it_should(sheet: Path) -> None:
    assert misplaced_blocks(sheet.read_text(encoding="utf-8")) == []
