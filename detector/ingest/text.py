"""Turn the markup posts arrive in into plain text, dropping text quoted from other posts."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

__all__ = ["html_to_text", "strip_forum_quotes"]

_BLOCK_TAGS = frozenset({"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre"})
_BLANK_LINES_RE = re.compile(r"\n\s*\n\s*(?:\n\s*)+")
_INLINE_SPACE_RE = re.compile(r"[^\S\n]+")  # any whitespace but newlines, incl. NBSP
# Innermost quote first (no [quote inside), applied until none is left, so nesting unwinds.
_BBCODE_QUOTE_RE = re.compile(
    r"\[quote(?:=[^\]]*)?\](?:(?!\[quote[=\]]).)*?\[/quote\]", re.IGNORECASE | re.DOTALL
)
# XenForo renders a quote as "<name> said:\n<quoted text>\nClick to expand..." when scraped.
_XENFORO_QUOTE_RE = re.compile(
    r"(?:^|\n)[^\n]{0,80}\bsaid:\s*\n.*?Click to (?:expand|shrink)\.{3}[ \t]*(?:\n|$)", re.DOTALL
)
_MARKDOWN_QUOTE_RE = re.compile(r"^[ \t]*>.*(?:\n|$)", re.MULTILINE)


class _TextExtractor(HTMLParser):
    """Collects text, breaking lines at block tags and skipping quoted blocks."""

    def __init__(self, *, drop_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._drop_quotes = drop_quotes
        self._skip_depth = 0
        self._skip_tag: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_depth:
            if tag == self._skip_tag:
                self._skip_depth += 1
            return
        if self._drop_quotes and _is_quote(tag, attrs):
            self._skip_tag, self._skip_depth = tag, 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip_depth:
            if tag == self._skip_tag:
                self._skip_depth -= 1
            return
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def _is_quote(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    if tag == "blockquote":
        return True
    classes = dict(attrs).get("class") or ""
    return tag in {"aside", "div"} and "quote" in classes.split()


def html_to_text(html: str, *, drop_quotes: bool = True) -> str:
    """Return the visible text of an HTML fragment, one line per paragraph.

    Examples
    --------
    >>> html_to_text('<p>Is <a href="https://x">@tesla</a> down?</p><p>500 error &amp; fail</p>')
    'Is @tesla down?\\n500 error & fail'
    >>> html_to_text('<aside class="quote"><blockquote>old</blockquote></aside><p>me too</p>')
    'me too'
    """
    if "<" not in html:
        return _tidy(unescape(html))
    parser = _TextExtractor(drop_quotes=drop_quotes)
    parser.feed(html)
    parser.close()
    lines = _tidy("".join(parser.parts)).split("\n")
    return "\n".join(line for line in lines if line)


def strip_forum_quotes(text: str) -> str:
    """Remove text quoted from earlier posts (BBCode, XenForo, Markdown ``>`` lines).

    Examples
    --------
    >>> strip_forum_quotes('[QUOTE="bob, post: 1"]app down?[/QUOTE]yes, 500 error here')
    'yes, 500 error here'
    >>> strip_forum_quotes("bob said:\\napp down?\\nClick to expand...\\nsame in Oslo")
    'same in Oslo'
    """
    previous = None
    while previous != text:
        previous, text = text, _BBCODE_QUOTE_RE.sub("\n", text)
    text = _XENFORO_QUOTE_RE.sub("\n", text)
    text = _MARKDOWN_QUOTE_RE.sub("", text)
    return _tidy(text)


def _tidy(text: str) -> str:
    lines = (_INLINE_SPACE_RE.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES_RE.sub("\n\n", "\n".join(lines)).strip()
