"""The planner's decision page for a document's targets (document D's by default): can we meet each one,
with which measures, at what cost, how sure.

    page = decision.build(targets, columns, decision.Evidence(history, study, assumptions))
    html = decision.render(page)          # a <section> for the report, the optimiser's report, the explorer

`columns` are the scenarios shown (the baseline first, then the plan), each with its attainment table
(P(met) read through `odds.p_met`); `study` an optimisation's packages (`studies.from_outcome` or
`studies.from_folder`, the shipped one by default); `assumptions` a Sobol' study's split of the verdicts'
variance (`studies.assumption_study`).
"""

from __future__ import annotations

import base64
from pathlib import Path

from nxmfg.decision import odds, studies
from nxmfg.decision.page import Column, Evidence, Page, ahead, build
from nxmfg.decision.texts import TEXT

TEMPLATES = Path(__file__).with_name("templates")

__all__ = ["Column", "Evidence", "Page", "ahead", "build", "odds", "render", "studies", "CSS"]

CSS = """
section.decision p.headline { font-weight: bold; font-size: 1.05em; margin: .3em 0; }
section.decision p.warning { color: #8a1c1c; background: #fdecea; padding: .3em .6em; }
table.decision td.record { white-space: nowrap; font-size: 11px; }
table.decision td.reason { min-width: 18em; max-width: 30em; font-size: 11px; }
table.decision td.flag { white-space: nowrap; font-weight: bold; }
table.decision tr.flag-reachable td.flag { color: #1a5e20; }
table.decision tr.flag-out-of-reach td.flag { color: #8a1c1c; }
table.decision tr.flag-decided-by-assumptions td.flag { color: #8a5a00; }
table.decision span.doc { font-weight: bold; }
code.file { font-size: 10px; color: #555; }
figure.tradeoff { max-width: 760px; } figure.tradeoff img { width: 100%; }
"""


def render(page: Page, chart_src=None) -> str:
    """The page as an HTML fragment (a <section>), in the page's language; its CSS is CSS. chart_src: the
    study chart's path -> the image's src (default: a data URI, so that a written page stands alone)."""
    from nxmfg.scenarios.outcomes import LAST_DATA_YEAR
    from nxmfg.scenarios.templating import environment

    text = TEXT[page.lang]
    sticks = {stick.key: stick for stick in page.yardsticks}
    general, science = sticks.get("general"), sticks.get("science")
    study = page.study
    window = study.window if study is not None else f"{LAST_DATA_YEAR + 1}-{page.year}"
    basis = (text["basis_expected"].format(states=study.states) if study is not None
             else text["basis_central"])
    bases = list(dict.fromkeys(odds.label(column.attainment, page.lang) for column in page.columns))
    chart = (chart_src or _data_uri)(study.chart) if study is not None and study.chart is not None else None
    return environment(str(TEMPLATES)).get_template("decision.html.j2").render(
        page=page, t=text, lang=page.lang, last_year=LAST_DATA_YEAR, window=window, bases=bases,
        basis_words=basis, yardstick_year=general.year if general else "", general=general.value if general else None,
        science=science.value if science else None, sticks=list(sticks.values()), chart=chart)


def _data_uri(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(png).read_bytes()).decode("ascii")
