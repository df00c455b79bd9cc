"""The Python API: nxmfg.run / compare and their results, on the real model."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

import nxmfg
from nxmfg import model, scenarios
from nxmfg.api.result import FILES
from nxmfg.calibration.fits import SHIPPED, sha256


@pytest.fixture(scope="module")
def plan():
    return nxmfg.run("scenarios/plan.yaml")


def test_a_run_is_plain_pysd_up_to_the_last_data_year_and_goes_on_from_the_record(plan):
    """The central run is run 0 of one engine batch with the states of the world, and PySD stays the reference:
    equal to it up to 2022 (to 1e-12: vectorised exp and pow round in the last bit, unlike the scalar ones);
    from 2023 on it goes on from the recorded state of 2023 (calibration/seam.py), so the pinned indicators
    are the record there."""
    from nxmfg.api.inputs import history
    from nxmfg.calibration import seam

    scenario = scenarios.load("scenarios/plan.yaml")
    reference = model.simulate(scenario.params(model.baseline()), scenario.final_year)
    assert set(reference.data_vars) == set(plan.variables.data_vars)
    for name in reference.data_vars:
        np.testing.assert_allclose(plan.variables[name].sel(year=slice(2010, 2022)).to_numpy(),
                                   reference[name].sel(year=slice(2010, 2022)).to_numpy(), rtol=1e-12, atol=1e-12,
                                   err_msg=name)
    assert plan.variables["year"].to_numpy().tolist() == list(range(2010, 2036))
    assert plan.metadata["engine"] == "compiled"
    for indicator, value in seam.recorded(history()).items():
        assert float(plan.indicators[indicator].sel(year=2023)) == pytest.approx(value, rel=1e-9)
    assert plan.metadata["seam"]["record"] == seam.recorded(history())


def test_a_run_records_model_scenario_fit_targets_and_every_parameter(plan):
    meta = plan.metadata
    assert meta["model_version"] == model.version()
    assert meta["scenario"] == "plan" and "intelligent_retrofit_firms_per_year" in meta["scenario_yaml"]
    assert meta["fit"] == {"path": str(SHIPPED), "sha256": sha256(SHIPPED)}
    assert meta["targets"]["mode"] == "shipped" and meta["targets"]["count"] == len(plan.targets)
    assert set(model.fitted()) <= set(meta["parameters"])
    retrofit = meta["parameters"]["intelligent_retrofit_firms_per_year"]
    assert isinstance(retrofit, dict) and max(retrofit.values()) == 100      # a lever is a time path


def test_attainment_judges_every_modelled_target_including_document_d(plan):
    modelled = [t.id for t in plan.targets if t.kind == "modelled"]
    assert plan.attainment["id"].tolist() == modelled
    d = plan.attainment[plan.attainment["doc"] == "D"]
    assert len(d) >= 9 and d["value"].notna().all()


def test_past_targets_carry_what_the_data_recorded_beside_the_models_verdict(plan):
    """C's 350 high-tech firms in 2023: the data hold the count (met in reality); B's 65 % upgrade share:
    the data hold first-quarter shares only (another statistic); D's targets lie after the data."""
    from nxmfg.calibration import observations

    table = plan.attainment.set_index("id")
    recorded = observations().query("indicator == 'high_tech_firms_count' and year == 2023")["value"].item()
    assert table.loc["C-high-tech-firms-2023", ["actual_value", "actual_status"]].tolist() == [recorded, "met"]
    assert table.loc["C-high-tech-firms-2023", "model_right"] == (table.loc["C-high-tech-firms-2023", "met"])
    assert table.loc["B-tech-upgrade-share", "actual_status"] == "different statistic"
    assert (table.loc[table["year"] > 2023, "actual_status"] == "future").all()
    judged = table[table["actual_met"].notna()]
    assert len(judged) >= 10 and judged["model_right"].notna().all()


def test_a_mapping_of_constants_is_set_on_top_of_the_shipped_fit(plan):
    changed = nxmfg.run("plan", params={"digital_productivity_gain": 0.3})
    assert changed.metadata["overrides"] == {"digital_productivity_gain": 0.3}
    assert changed.metadata["parameters"]["digital_productivity_gain"] == 0.3
    gdp = "gdp_100m_yuan"
    assert float(changed.indicators[gdp].sel(year=2030)) > float(plan.indicators[gdp].sel(year=2030))


def test_a_fit_file_replaces_the_shipped_fit_and_is_recorded(tmp_path):
    values = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    higher = values["market_elasticity"] + 0.1      # more of China's growth reaches the region (range [0.5, 2])
    values["market_elasticity"] = higher
    fit = tmp_path / "fitted.yaml"
    fit.write_text(yaml.safe_dump(values), encoding="utf-8")
    (tmp_path / "posterior.csv").write_bytes(SHIPPED.with_name("posterior.csv").read_bytes())   # its draws
    own = nxmfg.run("baseline", params=fit)
    same = nxmfg.run("baseline", params={"market_elasticity": higher})   # the shipped fit, one value changed
    assert own.metadata["fit"] == {"path": str(fit), "sha256": sha256(fit)}
    xr.testing.assert_allclose(own.variables, same.variables, rtol=1e-12)
    shipped = nxmfg.run("baseline")
    gdp = "gdp_100m_yuan"
    assert float(own.indicators[gdp].sel(year=2020)) > float(shipped.indicators[gdp].sel(year=2020))


@pytest.mark.parametrize(("text", "field"), [
    ("market_elasticty: 1.1\n", "market_elasticty: not a model constant (did you mean market_elasticity?)"),
    ("market_elasticity: lots\n", "market_elasticity: expected a finite number"),
    ("market_elasticity: 99\n", "market_elasticity: 99 is outside the range"),
    ("- 1\n", "expected a mapping of model constants to values"),
])
def test_a_bad_fit_file_gives_one_line_naming_file_and_field(tmp_path, text, field):
    fit = tmp_path / "fit.yaml"
    fit.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"^\S+fit\.yaml: ") as caught:
        nxmfg.run("baseline", params=fit)
    assert field in str(caught.value) and "\n" not in str(caught.value)


def test_an_unknown_scenario_name_is_named_with_a_suggestion():
    with pytest.raises(ValueError, match=r"plna: no such scenario file, nor a shipped scenario \(did you mean plan"):
        nxmfg.run("plna")


def test_a_changed_lever_moves_the_future_only(plan):
    lever = plan.scenario.levers["intelligent_retrofit_firms_per_year"]
    path = {lever.start: lever.value, 2026: lever.value, 2027: 400}       # the plan's value until 2026
    more = scenarios.with_changes(plan.scenario, "more_retrofits",
                                  levers={"intelligent_retrofit_firms_per_year": {"from": lever.start, "path": path}})
    changed = nxmfg.run(more)
    cnc = "cnc_key_process_rate_pct"
    before, after = slice(2010, 2026), slice(2028, 2035)
    xr.testing.assert_identical(changed.indicators[cnc].sel(year=before), plan.indicators[cnc].sel(year=before))
    assert (changed.indicators[cnc].sel(year=after) > plan.indicators[cnc].sel(year=after)).all()
    assert "more_retrofits" in changed.metadata["scenario_yaml"]


def test_write_puts_every_file_in_place_atomically(plan, tmp_path):
    out = plan.write(tmp_path / "plan", lang="en")
    for name in FILES:
        assert (out / name).stat().st_size > 0, name
    assert {p.stem for p in (out / "charts").glob("*.svg")} == {p.stem for p in (out / "charts").glob("*.png")}
    from nxmfg.model.indicators import HEADLINES
    from nxmfg.scenarios.report import decision_names

    drawn = {p.stem for p in (out / "charts").glob("*.png")}
    assert drawn == {*HEADLINES, *decision_names(plan.targets), "legend"}   # the headlines, D's, their one legend
    assert not [p for p in out.rglob("*") if p.name.startswith(".nxmfg-tmp.")], "no temporary file left behind"
    saved = xr.load_dataset(out / "results.nc")
    assert json.loads(saved.attrs["fit"])["sha256"] == sha256(SHIPPED)
    assert json.loads(saved.attrs["targets"])["count"] == len(plan.targets)
    written = pd.read_csv(out / "attainment.csv")
    assert written["id"].tolist() == plan.attainment["id"].tolist()
    assert {"actual_value", "actual_met", "actual_status", "actual_note", "model_right", "p_met", "p_met_over",
            "record_years", "decided_by_assumptions"} <= set(written.columns)
    assert written["p_met_over"].str.startswith("P(met) over 256 states: fit posterior, assumptions, outlooks; those "
                                                "passing the reality checks").all()
    assert written["p_met"].between(0, 1).all()
    meta = yaml.safe_load((out / "metadata.yaml").read_text(encoding="utf-8"))
    assert meta["scenario"] == "plan" and meta["states"]["count"] == 256 and meta["states"]["seed"] == 2027


def test_bands_csv_holds_the_quantiles_over_the_states_and_the_charts_draw_them(plan, tmp_path):
    """bands.csv: indicator, year, q05..q95 of the 256 states; each chart shades its q05-q95 range."""
    from matplotlib.collections import PolyCollection

    from nxmfg.api import outputs
    from nxmfg.model import plots

    out = plan.write(tmp_path / "plan", lang="en")
    bands = pd.read_csv(out / "bands.csv")
    assert list(bands.columns) == ["indicator", "year", "q05", "q25", "q50", "q75", "q95"]
    assert set(bands["indicator"]) == set(plan.indicators.data_vars)
    gdp = bands[bands["indicator"] == "gdp_100m_yuan"].set_index("year")
    states = plan.band["gdp_100m_yuan"].sel(year=2030)
    assert gdp.loc[2030, "q05"] == pytest.approx(float(states.quantile(0.05)), rel=1e-5)
    assert (gdp["q05"] <= gdp["q25"]).all() and (gdp["q75"] <= gdp["q95"]).all()
    assert gdp.loc[2030, "q95"] > gdp.loc[2030, "q05"]                 # the states differ
    ax = plots.plot_indicator({"plan": plan.indicators}, "gdp_100m_yuan",
                              band=outputs.pairs(bands)["gdp_100m_yuan"], lang="en")
    shaded = [c for c in ax.collections if isinstance(c, PolyCollection)][0].get_paths()[0].vertices
    assert shaded[:, 1].max() == pytest.approx(gdp["q95"].max(), rel=1e-6)


def test_plot_draws_one_chart_per_name(plan):
    import matplotlib.pyplot as plt

    figure = plan.plot(["gdp_100m_yuan", "cnc_key_process_rate_pct", "digital_economy_share_of_gdp_pct"], lang="en")
    shown = [ax for ax in figure.axes if ax.get_visible()]
    titles = ["GDP", "CNC rate of key processes", "Digital economy share of GDP"]
    assert [ax.get_title(loc="left") for ax in shown] == titles
    plt.close(figure)


def test_compare_runs_every_scenario_on_one_fit_and_one_set_of_targets(plan):
    comparison = nxmfg.compare(["baseline", "scenarios/plan.yaml"])
    assert list(comparison.results) == ["baseline", "plan"]
    xr.testing.assert_identical(comparison.results["plan"].variables, plan.variables)
    table = comparison.attainment
    assert {("baseline", "met"), ("plan", "margin")} <= set(table.columns)
    assert table.index.tolist() == plan.attainment["id"].tolist()
    assert comparison.metadata["fit"] == plan.metadata["fit"]
    assert set(comparison.metadata["scenarios"]) == {"baseline", "plan"}


def test_compare_writes_the_report_and_what_made_it(tmp_path):
    comparison = nxmfg.compare(["baseline", "plan"])
    page = comparison.write(tmp_path, lang="en")
    assert page == tmp_path / "report.html" and "<table" in page.read_text(encoding="utf-8")
    meta = yaml.safe_load((tmp_path / "metadata.yaml").read_text(encoding="utf-8"))
    assert meta["model_version"] == model.version() and meta["fit"]["sha256"] == sha256(SHIPPED)
    plan_levers = meta["scenarios"]["plan"]["parameters"]["intelligent_retrofit_firms_per_year"]
    assert max(plan_levers.values()) == 100
    assert (tmp_path / "charts" / "gdp_100m_yuan.svg").stat().st_size > 0
    bands = pd.read_csv(tmp_path / "bands.csv")
    assert list(bands.columns) == ["scenario", "indicator", "year", "q05", "q25", "q50", "q75", "q95"]
    assert set(bands["scenario"]) == {"baseline", "plan"} and meta["states"]["count"] == 256
    page = page.read_text(encoding="utf-8")
    assert "P(met) over 256 states: fit posterior, assumptions, outlooks" in page and "P(met) " in page
    assert "decided by assumptions" in page and "recorded 2023" in page


def test_compare_writes_its_report_without_runtime_warnings(tmp_path):
    """Growth rates have no first year: the bands' quantiles there must not fill the screen with numpy's
    All-NaN warnings."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        nxmfg.compare(["baseline", "coal_shock"]).write(tmp_path, lang="en")


def test_a_scenario_is_drawn_against_the_baseline_and_titled_in_the_chosen_language(plan):
    from nxmfg.api import outputs
    from nxmfg.scenarios import report

    runs, chosen = outputs.with_baseline(plan)
    assert list(runs) == ["baseline", "plan"]
    xr.testing.assert_identical(runs["baseline"], nxmfg.run("baseline").indicators)
    assert list(report.labelled(runs, chosen, "zh")) == ["基准情景（无新政策）", "规划情景"]
    alone, _ = outputs.with_baseline(nxmfg.run("baseline"))
    assert list(alone) == ["baseline"]


def test_importing_nxmfg_loads_neither_the_model_nor_matplotlib(tmp_path):
    """`nxmfg --help` and `import nxmfg` stay instant: PySD, xarray and matplotlib load on first use."""
    code = "import sys, nxmfg; print(sorted(m for m in ('pysd', 'xarray', 'pandas', 'matplotlib') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert loaded.stdout.strip() == "[]"


def test_a_sensitivity_study_without_a_folder_keeps_nothing_until_written(tmp_path):
    from test_sensitivity import MODEL_STUDY

    study = tmp_path / "model_tiny.yaml"
    study.write_text(MODEL_STUDY, encoding="utf-8")
    result = nxmfg.sensitivity_study(study)
    assert {"indices", "convergence"} <= set(result.tables)
    assert set(result.indices["parameter"]) == {"cultivation_upgrades_per_year", "intelligent_retrofit_firms_per_year",
                                                "retrofit_additionality"}
    assert result.metadata["model_version"] == model.version()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model_tiny.yaml"]
    out = result.write(tmp_path / "out")
    assert {"samples.npz", "metadata.json", "indices.csv", "summary.md"} <= {p.name for p in out.iterdir()}
    assert (out / "indices.csv").read_text() == result.indices.to_csv(index=False)


def test_simulate_s_forked_run_gives_what_nxmfg_run_gives(plan):
    """`nxmfg simulate` runs and judges in a child (api/outputs.run_for_writing)."""
    from nxmfg.api import outputs

    forked = outputs.run_for_writing("en", "scenarios/plan.yaml")
    xr.testing.assert_identical(forked.indicators, plan.indicators)
    xr.testing.assert_identical(forked.variables, plan.variables)
    pd.testing.assert_frame_equal(forked.attainment, plan.attainment)
    assert forked.metadata == plan.metadata and list(forked.metadata) == list(plan.metadata)
    assert forked.targets == plan.targets and forked.fit == plan.fit


def test_simulate_reports_a_bad_scenario_before_a_bad_targets_file(tmp_path):
    from nxmfg.api import outputs
    from nxmfg.scenarios.validation import ScenarioError

    bad_targets = tmp_path / "targets.yaml"
    bad_targets.write_text("- id: x\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="no such scenario"):
        outputs.run_for_writing("en", "no_such_scenario", targets=bad_targets)
    with pytest.raises(ScenarioError, match=str(bad_targets)):
        outputs.run_for_writing("en", "plan", targets=bad_targets)


def test_compare_s_forked_runs_give_what_nxmfg_compare_gives_and_the_default_band(tmp_path):
    """`nxmfg compare` runs the engine in a child (api/comparison.compare_for_writing)."""
    from nxmfg.api.comparison import compare_for_writing
    from nxmfg.scenarios.validation import ScenarioError

    forked = compare_for_writing(["baseline", "coal_shock"], "en")
    plain = nxmfg.compare(["baseline", "coal_shock"])
    assert list(forked.results) == list(plain.results)
    for name, result in plain.results.items():
        xr.testing.assert_identical(forked.results[name].variables, result.variables)
        pd.testing.assert_frame_equal(forked.results[name].attainment, result.attainment)
        assert forked.results[name].metadata == result.metadata
    pd.testing.assert_frame_equal(forked.bands(), plain.bands())
    bad_targets = tmp_path / "targets.yaml"
    bad_targets.write_text("- id: x\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="names must differ"):
        compare_for_writing(["plan", "plan"], "en", targets=bad_targets)
