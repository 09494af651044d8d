"""The prompts: text files per language (prompts/en, prompts/ja) filled with `$names`."""

from __future__ import annotations

import functools
from pathlib import Path
from string import Template

PROMPTS = Path(__file__).resolve().parent / "prompts"
LANGUAGES = ("en", "ja")
DEFAULT_LANGUAGE = "en"


def check_language(language: str) -> str:
    """The prompt language for an agent's language code (en when there are none for it)."""
    code = language.strip().lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


@functools.cache
def _template(language: str, name: str) -> Template:
    return Template((PROMPTS / language / f"{name}.txt").read_text(encoding="utf-8"))


def fill(language: str, prompt: str, /, **values: object) -> str:
    """The prompt `prompt` in this language with its `$names` replaced; values are text
    others wrote, so `$` inside them is left alone (a single pass)."""
    return _template(check_language(language), prompt).safe_substitute(
        {key: str(value) for key, value in values.items()}
    )
