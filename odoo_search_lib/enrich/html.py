"""Plain text from the HTML of a product's website description."""

from __future__ import annotations

from html.parser import HTMLParser

from ._common import _clean


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML fragment."""

    _SKIP = frozenset({"script", "style", "template", "noscript", "head", "title"})
    _BLOCKS = frozenset(
        {"br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "section", "article", "header", "footer"}
        | {"h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "dd", "dt"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def strip_html(text: str | None) -> str:
    """Return the visible text of an HTML fragment on one line.

    Tags are dropped (block tags become spaces), the content of ``script`` and
    ``style`` elements is dropped, entities are unescaped and whitespace is
    collapsed. Plain text goes through unchanged apart from whitespace.
    ``None`` or ``False`` (an empty Odoo field) give ``""``.
    """
    if not text:
        return ""
    parser = _TextExtractor()
    parser.feed(str(text))
    parser.close()
    return _clean("".join(parser.parts))
