"""What a reader of an HTML page sees: its text, without scripts, styles, attributes and file names."""

import re
from html.parser import HTMLParser

SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
PROSE = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,;:'’()/-]+[A-Za-z][a-z]+){2,}\b")   # three English words in a row
VENSIM_UNITS = ("CNY10k/firms", "firms/Year", "1/Year", "projects/Year", "Dmnl", "CNY100m", "tce10k")


class _Visible(HTMLParser):
    """Collects text outside <script>, <style> and <code class="file"> (file names are names)."""

    def __init__(self) -> None:
        super().__init__()
        self.skip, self.parts = [], []

    def handle_starttag(self, tag, attrs):
        hidden = tag in ("script", "style") or (tag == "code" and ("class", "file") in attrs)
        if tag in ("script", "style", "code"):
            self.skip.append(hidden)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code") and self.skip:
            self.skip.pop()

    def handle_data(self, data):
        if not any(self.skip):
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return "\n".join(parser.parts)


def leaks(page: str) -> dict[str, list[str]]:
    """English prose, snake_case names and Vensim unit strings in a page's visible text."""
    text = visible_text(page)
    return {"prose": PROSE.findall(text), "snake_case": SNAKE.findall(text),
            "vensim_units": [unit for unit in VENSIM_UNITS if unit in text]}
