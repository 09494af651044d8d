"""Sanitised HTML of other servers, read as text: the plain-text form of a remote post
(`html_to_text`) and the hashtags of a remote bio linked like ours (`link_hashtags`).

Both read HTML with the standard library's `html.parser`, never with patterns over the
markup. Their input is HTML that `stgy.domain.text.sanitize_html` cleaned.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from stgy.domain.text import hashtag_link, hashtag_spans, sanitize_html

# Elements that stand apart from the text around them: a blank line between them.
_PARAGRAPHS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "ol", "p",
        "pre", "section", "table", "ul",
    }
)  # fmt: skip
# Elements that start a line of their own.
_LINES = frozenset({"br", "li", "tr"})
_CELLS = frozenset({"td", "th"})
# Text inside these is never scanned for hashtags.
_NOT_SCANNED = frozenset({"a", "code", "pre"})
_SPACES = re.compile(r"[ \t\n\r\f\v]+")


class _TextReader(HTMLParser):
    """Collects the text; line breaks wait until text follows, so none trail or pile up."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.breaks = 0  # line breaks owed before the next text
        self.pre = 0
        self.cell = False  # a table cell started on this line already

    def _break(self, count: int) -> None:
        self.breaks = max(self.breaks, count)
        self.cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _PARAGRAPHS:
            self._break(2)
        elif tag in _LINES:
            self._break(1)
        elif tag in _CELLS:
            if self.cell:
                self._emit(" ")
            self.cell = True
        if tag == "pre":
            self.pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _PARAGRAPHS:
            self._break(2)
        elif tag in ("li", "tr"):
            self._break(1)
        if tag == "pre" and self.pre:
            self.pre -= 1

    def handle_data(self, data: str) -> None:
        if not self.pre:
            data = _SPACES.sub(" ", data)
            if self.breaks or not self.parts or self.parts[-1].endswith(" "):
                data = data.lstrip(" ")
        self._emit(data)

    def _emit(self, text: str) -> None:
        if not text:
            return
        if self.breaks and self.parts:
            self.parts[-1] = self.parts[-1].rstrip(" ")
            self.parts.append("\n" * self.breaks)
        self.breaks = 0
        self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts).strip()


def html_to_text(markup: str) -> str:
    """The text of sanitised HTML: paragraphs and other blocks apart by a blank line,
    `<br>` and list items on lines of their own, runs of white space as one space
    (kept as written inside `<pre>`), entities decoded, links as their text."""
    reader = _TextReader()
    reader.feed(markup)
    reader.close()
    return reader.text().replace("\x00", "")


class _HashtagLinker(HTMLParser):
    """Writes the markup back as it came, with hashtags in text outside links and code
    linked to our tag pages."""

    def __init__(self, tags_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags_url = tags_url
        self.parts: list[str] = []
        self.inside = 0  # depth of a, code and pre

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(self.get_starttag_text() or "")
        if tag in _NOT_SCANNED:
            self.inside += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")
        if tag in _NOT_SCANNED and self.inside:
            self.inside -= 1

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.parts.append(html.escape(data, quote=False))
            return
        position = 0
        for start, end, written in hashtag_spans(data):
            self.parts.append(html.escape(data[position:start], quote=False))
            self.parts.append(hashtag_link(written, self.tags_url))
            position = end
        self.parts.append(html.escape(data[position:], quote=False))


def link_hashtags(markup: str, tags_url: str) -> str:
    """Sanitised HTML with its unlinked hashtags linked to `{tags_url}/{tag}`, as in our
    own posts and bios (hashtags another server linked already keep their links)."""
    linker = _HashtagLinker(tags_url)
    linker.feed(markup)
    linker.close()
    return sanitize_html("".join(linker.parts))
