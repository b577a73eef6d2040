"""HTML bodies to readable text, optionally without the quoted history (Gmail, Outlook, Apple, Yahoo quotes).

A streaming pass over the tags (stdlib HTMLParser), not a tree: linear in the size of the
markup however deep it nests, which a DOM library is not (a nesting bomb of 50,000 divs
took minutes through BeautifulSoup).
"""

from __future__ import annotations

import logging
import re
from html import unescape
from html.parser import HTMLParser

__all__ = ["html_to_text"]

log = logging.getLogger(__name__)

_SKIP_TAGS = frozenset(["script", "style", "head", "title", "noscript", "template", "svg", "object", "iframe"])
_BLOCK_TAGS = frozenset(["p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
                         "blockquote", "pre", "hr", "section", "article", "header", "footer", "dd", "dt", "dl",
                         "address", "center", "form", "fieldset", "caption", "thead", "tbody", "tfoot", "body",
                         "main", "nav", "aside", "figure", "html"])
_VOID_TAGS = frozenset(["br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source",
                        "track", "wbr", "param", "keygen"])
_QUOTE_CLASSES = ("gmail_quote", "gmail_extra", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote",
                  "zmail_extra", "outlookmessageheader", "ms-outlook-ios-reply", "aolreplyheader")
# Outlook puts no quote element around the original: these mark where it starts.
_CUT_IDS = frozenset(["divrplyfwdmsg", "appendonsend", "stopspelling", "olk_src_body_section",
                      "mail-editor-reference-message-container", "x_divrplyfwdmsg", "x_appendonsend"])
_OUTLOOK_BORDER = re.compile(r"border-top\s*:\s*solid\s+#(?:e1e1e1|b5c4df)", re.I)
_HTML_TAG = re.compile(r"<[^>]*>")
_HTML_DROP = re.compile(r"<(script|style|head|title)\b.*?</\1\s*>", re.I | re.S)
_HTML_BREAK = re.compile(r"<\s*(br|/p|/div|/tr|/li|/h[1-6]|/blockquote|/table|hr)\b[^>]*>", re.I)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_BLOCK_EDGE = "\x1e"
_EDGES = re.compile(r"[ \t\n]*\x1e[\x1e \t\n]*")


def html_to_text(html: str, drop_quotes: bool = False) -> str:
    """Readable text of an HTML body; with ``drop_quotes``, without the quoted history."""
    try:
        extractor = _TextExtractor(drop_quotes)
        extractor.feed(html)
        extractor.close()
        text = extractor.text()
    except Exception:  # HTMLParser has asserted on odd declarations; tags stripped by hand then
        log.warning("html_to_text: falling back to tag stripping", exc_info=True)
        text = _HTML_DROP.sub(" ", html)
        text = _HTML_BREAK.sub("\n", text)
        text = unescape(_HTML_TAG.sub("", text))
    return _tidy(text.split("\n"))


class _TextExtractor(HTMLParser):
    def __init__(self, drop_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.drop_quotes = drop_quotes
        self.pieces: list[str] = []
        self.skip_tag: str | None = None  # inside an element whose content is not text (or a quote)
        self.skip_depth = 0
        self.pre_depth = 0
        self.done = False  # an Outlook original started: nothing after it is the reply

    def text(self) -> str:
        # Block edges make one line break however many meet; <br><br> keeps its blank line.
        return _EDGES.sub(lambda m: "\n" * max(1, m.group().count("\n")), "".join(self.pieces))

    def _quote_start(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag == "blockquote":
            return True
        classes = " ".join(value or "" for name, value in attrs if name == "class").lower().split()
        return any(c.startswith(_QUOTE_CLASSES) for c in classes)

    def _cut(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        values = dict(attrs)
        if (values.get("id") or "").lower() in _CUT_IDS:
            return True
        style = values.get("style") or ""
        return tag == "div" and bool(_OUTLOOK_BORDER.search(style)) and "padding" in style.lower()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth += 1
            elif tag == "body" and self.skip_tag in ("head", "title"):
                self.skip_tag, self.skip_depth = None, 0  # an unclosed <head> ends where <body> starts
            else:
                return
        if self.skip_tag is not None:
            return
        if self.drop_quotes and self._cut(tag, attrs):
            self.done = True
            return
        if tag in _SKIP_TAGS or (self.drop_quotes and self._quote_start(tag, attrs)):
            if tag not in _VOID_TAGS:
                self.skip_tag, self.skip_depth = tag, 1
            return
        if tag == "br":
            self.pieces.append("\n")
        elif tag in _BLOCK_TAGS:
            self.pieces.append(_BLOCK_EDGE)
            if tag == "pre":
                self.pre_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" or tag in _BLOCK_TAGS:
            self.handle_starttag(tag, attrs)
            if tag != "br":
                self.handle_endtag(tag)
        elif self.drop_quotes and not self.done and self.skip_tag is None and self._cut(tag, attrs):
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if self.done:
            return
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth <= 0:
                    self.skip_tag, self.skip_depth = None, 0
            return
        if tag in _BLOCK_TAGS:
            self.pieces.append(_BLOCK_EDGE)
            if tag == "pre" and self.pre_depth:
                self.pre_depth -= 1
        elif tag in ("td", "th"):
            self.pieces.append(" ")

    def handle_data(self, data: str) -> None:
        if self.done or self.skip_tag is not None:
            return
        self.pieces.append(data if self.pre_depth else _SPACES.sub(" ", data))


def _tidy(lines: list[str]) -> str:
    out: list[str] = []
    blank = 0
    for line in lines:
        line = line.strip()
        if not line:
            blank += 1
            if blank > 1 or not out:
                continue
        else:
            blank = 0
        out.append(line)
    return "\n".join(out).strip()
