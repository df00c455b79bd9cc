"""The `nxmfg simulate` command, run in-process with click's CliRunner."""

import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

import model
import scenarios
from cli import main


@pytest.fixture(scope="module")
def plan_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    result = CliRunner().invoke(main, ["simulate", "scenarios/plan.yaml", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_simulate_writes_results_table_and_charts(plan_out):
    out, _ = plan_out
    for name in ["results.csv", "results.nc", "variables.csv", "attainment.csv", "metadata.yaml", "headlines.png"]:
        assert (out / name).stat().st_size > 0, name
    assert len(list((out / "charts").glob("*.png"))) >= 10


def test_netcdf_records_model_version_scenario_and_parameters(plan_out):
    out, _ = plan_out
    results = xr.load_dataset(out / "results.nc")
    assert results.attrs["model_version"] == model.version()
    assert "intelligent_retrofit_firms_per_year" in results.attrs["scenario_yaml"]
    assert "intelligent_retrofit_firms_per_year" in results.attrs["parameters"]
    assert results["gdp_100m_yuan"].sel(year=2020) > 0


def test_attainment_table_has_a_row_for_every_modelled_target(plan_out):
    out, output = plan_out
    table = pd.read_csv(out / "attainment.csv")
    modelled = [t.id for t in scenarios.load_targets() if t.kind == "modelled"]
    assert sorted(table["id"]) == sorted(modelled)
    assert {"target", "year", "value", "threshold", "met", "margin"} <= set(table.columns)
    assert "modelled targets met" in output


def test_misspelled_lever_gives_one_line_naming_it_and_no_traceback(tmp_path):
    bad = tmp_path / "typo.yaml"
    bad.write_text("name: typo\ndescription: a typo\nlevers:\n  cloud_vouchr_firms_per_year: {from: 2021, value: 5}\n")
    result = CliRunner().invoke(main, ["simulate", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "levers.cloud_vouchr_firms_per_year" in lines[0] and str(bad) in lines[0]
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("text", "field"), [
    ("name: bad\ndescription: x\nlevers:\n  key_projects_per_year: {from: 2021, value: 1000}\n",
     "levers.key_projects_per_year.value"),
    ("name: bad\ndescription: x\nlevers:\n  key_projects_per_year: {from: 2021, value: many}\n",
     "levers.key_projects_per_year"),
    ("name: bad\ndescription: x\ncolour: red\n", "colour"),
    ("name: bad\ndescription: x\npaths:\n  coal_price_outlook: {2015: 2}\n", "paths.coal_price_outlook.2015"),
])
def test_bad_scenarios_give_one_line_naming_the_field(tmp_path, text, field):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    result = CliRunner().invoke(main, ["simulate", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert field in result.output


def test_a_run_that_ends_before_every_target_year_does_not_call_them_missed(tmp_path):
    """final_year 2015: no target can be assessed, so none is counted as missed (issue 13: "0 of 55 met")."""
    short = tmp_path / "short.yaml"
    short.write_text("name: short\ndescription: history only\nfinal_year: 2015\n")
    result = CliRunner().invoke(main, ["simulate", str(short), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    modelled = sum(t.kind == "modelled" for t in scenarios.load_targets())
    assert f"0 of 0 modelled targets met in scenario 'short'; {modelled} n/a" in result.output
    assert "MISSED" not in result.output
