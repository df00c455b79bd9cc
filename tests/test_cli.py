"""The `nxmfg` commands, run in-process with click's CliRunner."""

import re
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr
import yaml
from click.testing import CliRunner

from nxmfg import model, scenarios
from nxmfg.cli import main


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
    assert {"target", "year", "value", "threshold", "met", "margin", "p_met"} <= set(table.columns)
    assert "modelled targets met" in output
    assert "P(met) over 256 states: fit posterior, assumptions, outlooks" in output
    flagged = table.loc[table["decided_by_assumptions"].fillna(False).astype(bool), "id"]
    assert len(flagged) and all(re.search(rf"{name} .* A ", output) for name in flagged)   # the printed flag


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


EXAMPLE = "scenarios/examples/my_targets.yaml"


@pytest.mark.parametrize(("mode", "shipped_rows"), [("extend", True), ("replace", False)])
def test_own_targets_extend_or_replace_the_shipped_ones(tmp_path, mode, shipped_rows):
    result = CliRunner().invoke(main, ["simulate", "scenarios/baseline.yaml", "--out", str(tmp_path), "--lang", "en",
                                       "--targets", EXAMPLE, "--targets-mode", mode])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "attainment.csv")
    assert {"U-mfg-va-2030", "U-digital-economy-2030"} <= set(table["id"])
    assert ("B-mfg-va-growth" in set(table["id"])) == shipped_rows
    assert table.set_index("id").loc["D-cnc-key-processes", "threshold"] == 75
    recorded = yaml.safe_load((tmp_path / "metadata.yaml").read_text(encoding="utf-8"))["targets"]
    assert recorded["own"]["path"] == EXAMPLE and recorded["mode"] == mode


def test_simulate_runs_with_another_fit_and_records_it(tmp_path):
    fit = tmp_path / "fitted.yaml"
    fit.write_text(Path("calibration/fitted.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", "scenarios/baseline.yaml", "--out", str(tmp_path / "out"),
                                       "--lang", "en", "--params", str(fit)])
    assert result.exit_code == 0, result.output
    meta = yaml.safe_load((tmp_path / "out" / "metadata.yaml").read_text(encoding="utf-8"))
    assert meta["fit"]["path"] == str(fit) and len(meta["fit"]["sha256"]) == 12
    fit.write_text("no_such_constant: 1\n", encoding="utf-8")
    bad = CliRunner().invoke(main, ["simulate", "scenarios/baseline.yaml", "--out", str(tmp_path / "x"),
                                    "--params", str(fit)])
    assert bad.exit_code == 1 and bad.output.count("\n") == 1
    assert f"{fit}: no_such_constant: not a model constant" in bad.output


def test_english_charts_need_no_chinese_font_and_chinese_ones_say_what_to_install(tmp_path, monkeypatch):
    from nxmfg.model import fonts

    def no_font():
        raise fonts.MissingFontError(f"no Chinese (CJK) font found for the charts; install one with: "
                                     f"{fonts.INSTALL_HINT}")

    monkeypatch.setattr(fonts, "cjk_family", no_font)
    english = CliRunner().invoke(main, ["simulate", "scenarios/baseline.yaml", "--out", str(tmp_path / "en"),
                                        "--lang", "en"])
    assert english.exit_code == 0, english.output
    assert (tmp_path / "en" / "headlines.png").stat().st_size > 0
    chinese = CliRunner().invoke(main, ["simulate", "scenarios/baseline.yaml", "--out", str(tmp_path / "zh")])
    assert chinese.exit_code == 1 and chinese.output.count("\n") == 1
    assert fonts.INSTALL_HINT in chinese.output
    assert not (tmp_path / "zh").exists()


def test_calibrate_writes_only_under_out_and_save_ships_the_fit(tmp_path, monkeypatch, small_priors):
    """A small, fast posterior (two constants, a few steps) stands in for the full one."""
    from nxmfg.calibration import runner

    shipped = {path: path.read_bytes() for path in (runner.FITTED, runner.POSTERIOR) if path.exists()}
    out = tmp_path / "fit"
    result = CliRunner().invoke(main, ["calibrate", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {path: path.read_bytes() for path in shipped} == shipped, "the shipped fit is untouched"
    fitted = yaml.safe_load((out / "fitted.yaml").read_text(encoding="utf-8"))
    assert set(fitted) == {"nonindustry_elasticity", "market_elasticity"}
    written = {p.name for p in out.iterdir()}
    assert {"posterior.csv", "report.md", "fit.csv", "params.csv", "errors.csv", "fit.png"} <= written
    assert {p.name for p in (out / "checkpoint").iterdir()} == {"chain.npz", "state.json", "mode.json"}
    posterior = pd.read_csv(out / "posterior.csv", comment="#")
    assert list(posterior.columns) == list(fitted) and 0 < len(posterior) <= 40
    header = (out / "posterior.csv").read_text(encoding="utf-8")
    for field in ("model_version", "data_sha256", "sampler", "seed", "walkers: 8", "steps: 6", "burn_in",
                  "thinning"):
        assert f"# {field}" in header

    monkeypatch.setattr(runner, "FITTED", tmp_path / "shipped" / "fitted.yaml")
    monkeypatch.setattr(runner, "POSTERIOR", tmp_path / "shipped" / "posterior.csv")
    monkeypatch.setattr(runner, "OUT_OF_SAMPLE", tmp_path / "shipped" / "out_of_sample")
    saved = CliRunner().invoke(main, ["calibrate", "--out", str(tmp_path / "again"), "--save"])
    assert saved.exit_code == 0, saved.output
    assert yaml.safe_load(runner.FITTED.read_text(encoding="utf-8")) == fitted      # same seed, same fit
    until = CliRunner().invoke(main, ["calibrate", "--until", "2019", "--out", str(tmp_path / "until"), "--save"])
    assert until.exit_code == 0, until.output
    assert {"fitted_until_2019.yaml", "posterior.csv", "coverage.csv", "coverage_by_series.csv",
            "fit_out_of_sample.csv"} <= \
        {p.name for p in runner.OUT_OF_SAMPLE.iterdir()}
    assert "coverage of the later record" in until.output


def test_a_run_that_ends_before_every_target_year_does_not_call_them_missed(tmp_path):
    """final_year 2015: no target can be assessed, so none is counted as missed (issue 13: "0 of 55 met")."""
    short = tmp_path / "short.yaml"
    short.write_text("name: short\ndescription: history only\nfinal_year: 2015\n")
    result = CliRunner().invoke(main, ["simulate", str(short), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    modelled = sum(t.kind == "modelled" for t in scenarios.load_targets())
    assert f"0 of 0 modelled targets met in scenario 'short'; {modelled} n/a" in result.output
    # The model's own verdict column: every target n/a (the `actual` column may still say what the data show).
    attainment = pd.read_csv(tmp_path / "out" / "attainment.csv")
    assert attainment["met"].isna().all(), attainment.loc[attainment["met"].notna(), ["id", "met"]]


def test_the_program_flushes_its_output_and_runs_exit_handlers_before_its_quick_exit(tmp_path):
    """Run as a program, `nxmfg` ends with os._exit (no teardown of every object): output and exit
    handlers must not be lost, and exit codes must stay."""
    import subprocess
    import sys

    code = ("import atexit, pathlib, sys; from nxmfg import cli; "
            "atexit.register(pathlib.Path('handled').write_text, 'yes'); sys.argv[0] = 'nxmfg'; cli.main()")
    done = subprocess.run([sys.executable, "-c", code, "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and "simulate" in done.stdout
    assert (tmp_path / "handled").read_text() == "yes"
    bad = subprocess.run([sys.executable, "-c", code, "simulate", "no_such_scenario"], capture_output=True,
                         text=True, cwd=tmp_path)
    assert bad.returncode == 1 and "no such scenario" in bad.stderr


def test_the_program_still_waits_for_a_thread_it_started_before_exiting(tmp_path):
    import subprocess
    import sys

    code = ("import pathlib, sys, threading, time; from nxmfg import cli; "
            "threading.Thread(target=lambda: (time.sleep(0.5), pathlib.Path('finished').write_text('yes'))).start(); "
            "sys.argv[0] = 'nxmfg'; cli.main()")
    done = subprocess.run([sys.executable, "-c", code, "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "finished").read_text() == "yes"
