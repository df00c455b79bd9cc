"""A Chinese-capable font for the charts, and a check that every glyph of a label resolves to one.

Matplotlib's bundled DejaVu Sans has no CJK glyphs: without a CJK font it draws empty boxes and
only warns. The charts call `cjk_family()`, which fails loudly instead.
"""

from functools import cache
from pathlib import Path

from matplotlib import font_manager, ft2font

# Preferred first. The first is what `apt-get install fonts-wqy-microhei` provides (Debian/Ubuntu);
# the rest cover fonts-noto-cjk and the usual Windows / macOS fonts.
CJK_FAMILIES = (
    "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
    "Noto Sans CJK JP", "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei", "PingFang SC",
    "Heiti SC", "AR PL UMing CN",
)
INSTALL_HINT = "sudo apt-get install fonts-wqy-microhei"
PROBE = "宁夏制造业增加值亿元家"   # characters every label font must have


class MissingFontError(RuntimeError):
    """No installed font can draw Chinese labels."""


def _covers(path: str, text: str) -> bool:
    font = ft2font.FT2Font(path)
    return all(font.get_char_index(ord(char)) != 0 for char in text)


def _installed(family: str) -> str | None:
    """Path of the installed font of `family`, or None (never matplotlib's default font)."""
    try:
        return font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    except ValueError:
        return None


def _register_system_fonts() -> None:
    """Add fonts installed after matplotlib built its font cache (e.g. just now by apt)."""
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        if path not in known:
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):   # unreadable or unsupported font file
                continue


@cache
def cjk_family() -> str:
    """Family name of an installed font that draws Chinese; MissingFontError if there is none."""
    for attempt in range(2):
        for family in CJK_FAMILIES:
            path = _installed(family)
            if path and _covers(path, PROBE):
                return family
        if attempt == 0:
            _register_system_fonts()
    raise MissingFontError(f"no Chinese (CJK) font found for the charts; install one with: {INSTALL_HINT}")


def font_families(lang: str = "zh") -> list[str]:
    """Font fallback list for the charts: DejaVu Sans for Latin and digits, then the CJK font.

    Chinese labels need the CJK font (MissingFontError without one). English labels do not: the CJK
    font is added where installed, so that a Chinese scenario name still draws.
    """
    if lang == "zh":
        return ["DejaVu Sans", cjk_family()]
    try:
        return ["DejaVu Sans", cjk_family()]
    except MissingFontError:
        return ["DejaVu Sans"]


GENERIC = ("sans-serif", "serif", "monospace", "cursive", "fantasy")


def resolve_glyph(char: str, families: list[str]) -> str | None:
    """Path of the font that draws `char` under matplotlib's per-glyph fallback, or None if none can."""
    import matplotlib as mpl

    expanded = [name for family in families
                for name in (mpl.rcParams[f"font.{family}"] if family in GENERIC else [family])]
    for family in expanded:
        path = _installed(family)
        if path and _covers(path, char):
            return path
    return None


def missing_glyphs(text: str, families: list[str]) -> list[str]:
    """Characters of `text` that no font of `families` can draw (whitespace ignored)."""
    return sorted({char for char in text if not char.isspace() and resolve_glyph(char, families) is None})


def figure_glyph_report(figure) -> dict[str, str | None]:
    """Every non-ASCII character in the figure's text -> file name of the font that draws it (None: boxes)."""
    from matplotlib.text import Text

    report = {}
    for artist in figure.findobj(Text):
        families = list(artist.get_fontproperties().get_family())
        for char in artist.get_text():
            if ord(char) > 127 and char not in report:
                path = resolve_glyph(char, families)
                report[char] = Path(path).name if path else None
    return report
