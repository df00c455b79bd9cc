"""Numbers in the README and the docs are the tool's own: each is checked against what the tool computes
now, so none goes stale (issue 22: "the baseline calls 11 of the 12" while the tool printed 12 of 12)."""

import re
from pathlib import Path

import pytest
import yaml

import nxmfg
from nxmfg.scenarios import outcomes

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "docs" / "studies"


@pytest.fixture(scope="module")
def baseline():
    return nxmfg.run("baseline")


def test_the_readmes_count_of_past_targets_is_the_tools(baseline):
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    found = re.search(r"Of the (\d+) past targets the data judge (\d+): (\d+) were met, and the baseline calls (\d+) "
                      r"of the (\d+) right", text)
    assert found, "the README's sentence on past targets is gone or reworded; keep this test beside it"
    counts = outcomes.summary(baseline.attainment)
    past, judged, met, right, judged_again = map(int, found.groups())
    assert (past, judged, met, right, judged_again) == (counts["past"], counts["judged"], counts["met"],
                                                        counts["model_right"], counts["judged"])


def test_the_model_figures_in_the_studies_readme_are_the_baselines(baseline):
    """'against the model's 3.9 % and 4.1 % for those years' (2020, 2021) and '+31.7 % in 2022, against the
    model's 8.8 %': the high-tech share and growth of the baseline, to the digit shown."""
    text = " ".join((STUDIES / "README.md").read_text(encoding="utf-8").split())
    shares = re.search(r"against the model's ([\d.]+) % and ([\d.]+) % for those years", text)
    growth = re.search(r"in 2022, against the model's ([\d.]+) %", text)
    assert shares and growth
    share = baseline.indicators["high_tech_mfg_share_of_above_scale_industry_pct"]
    assert [float(v) for v in shares.groups()] == [round(float(share.sel(year=y)), 1) for y in (2020, 2021)]
    rate = baseline.indicators["high_tech_mfg_va_growth_pct"].sel(year=2022)
    assert float(growth.group(1)) == round(float(rate), 1)


def test_every_package_the_docs_name_is_shipped_and_the_summaries_name_their_studys_model():
    metadata = yaml.safe_load((STUDIES / "packages_2027" / "metadata.yaml").read_text(encoding="utf-8"))
    for page in [STUDIES / "README.md", *STUDIES.glob("packages_2027/summary*.md")]:
        for name in set(re.findall(r"\b((?:package|reach)_\d{3})\b", page.read_text(encoding="utf-8"))):
            assert (STUDIES / "packages_2027" / "packages" / f"{name}.yaml").is_file(), f"{page.name}: {name}"
    for summary in STUDIES.glob("packages_2027/summary*.md"):
        assert metadata["model_version"] in summary.read_text(encoding="utf-8"), summary.name


def test_the_study_files_run_counts_are_its_sizes():
    """optimization/packages_2027.yaml says how many runs it makes: the arithmetic of its own fields."""
    path = ROOT / "optimization" / "packages_2027.yaml"
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = re.search(r"= \((\d+) x (\d+) \+ 2\) x (\d+) = ([\d ]+),", path.read_text(encoding="utf-8"))
    from nxmfg.calibration.states import settings

    population, generations, runs_each, runs = (int(g.replace(" ", "")) for g in found.groups())
    count = (study.get("states") or {}).get("count", settings().count)   # default: calibration/states.yaml's
    assert (population, generations, runs_each) == (study["population"], study["generations"], count + 1)
    assert runs == (population * generations + 2) * runs_each
    assert not re.search(r"#.*\d+(\.\d+)? ?亿元", path.read_text(encoding="utf-8").split("budget_cap")[0]), \
        "a cost in a comment goes stale: point to the study's summary instead"


def test_the_readmes_screened_and_unscreened_odds_are_the_tools():
    """'the baseline meets D's above-scale value added in A % of the N candidates and in B % of the M passing,
    R&D growth in C % and D %': `python -m nxmfg.calibration.plausible`, to the digit shown."""
    from nxmfg.calibration import fits, plausible

    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    found = re.search(r"above-scale value added in (\d+) % of the ([\d ]+) candidates and in (\d+) % of the "
                      r"(\d+) passing, R&D growth in (\d+) % and (\d+) %", text)
    assert found, "the README's sentence on the screening's effect is gone or reworded; keep this test beside it"
    va_all, drawn, va_passing, passing, rd_all, rd_passing = (int(g.replace(" ", "")) for g in found.groups())
    effect = plausible.screening_effect(fits.shipped_fit())
    assert (drawn, passing) == (effect.attrs["drawn"], effect.attrs["passing"])
    shown = effect.round().astype(int)
    assert (va_all, va_passing) == tuple(shown.loc["D-above-scale-industry-va"])
    assert (rd_all, rd_passing) == tuple(shown.loc["D-rd-expenditure-growth"])
