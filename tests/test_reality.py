"""Reality checks (calibration/reality.py, priors.yaml `reality_checks`): a prior on the fitted model's long run
that keeps only the posterior's draws, and a mode, that pass."""

import re

import numpy as np
import pytest
import xarray as xr
import yaml
from click.testing import CliRunner

from nxmfg import model
from nxmfg.calibration import priors, reality
from nxmfg.calibration.priors import RealityCheck
from nxmfg.cli import main


def _values(share: list[list[float]]) -> xr.Dataset:
    years = np.arange(2033, 2036)
    share = np.asarray(share, float)
    return xr.Dataset({"industry_share_of_gdp_pct": (("run", "year"), share)}, coords={"year": years})


CHECK = {"below_45": RealityCheck(quantity="industry_share_of_gdp_pct", years=[2034, 2035], range=[0.0, 45.0],
                                  reason="test")}


def test_a_run_passes_only_inside_the_range_in_every_year_of_the_span():
    values = _values([[50, 44, 45], [40, 44, 45.5], [99, 10, 20], [40, np.nan, 20]])  # 2033 is outside the span
    assert reality.passed(CHECK, values)["below_45"].tolist() == [True, False, True, False]
    # margins: the closest year's distance to the range, as a share of it; a failed run is -1
    np.testing.assert_allclose(reality.margins(CHECK, values)[:, 0], [0, -0.5 / 45, 10 / 45, -1])


def test_the_quantities_come_from_the_runs_own_variables():
    run = xr.Dataset({"industry_va_nominal": ("year", [40.0]), "gdp_nominal": ("year", [100.0]),
                      "capacity_utilisation": ("year", [0.8]), "normal_utilisation": ("year", [0.85]),
                      "delivery_effect": ("year", [1.1])}, coords={"year": [2035]})
    got = reality.quantities(run)
    assert got["industry_share_of_gdp_pct"].values.tolist() == [40.0]
    assert got["utilisation_gap"].values.tolist() == pytest.approx([-0.05])
    assert got["delivery_effect"].values.tolist() == [1.1]
    assert set(reality.QUANTITIES) == set(RealityCheck.model_fields["quantity"].annotation.__args__)


def test_a_bad_check_is_one_line_naming_the_file_and_field(tmp_path):
    spec = yaml.safe_load(priors.PRIORS.read_text(encoding="utf-8"))
    spec["reality_checks"]["industry_below_45_pct_of_gdp"]["range"] = [45, 0]
    bad = tmp_path / "priors.yaml"
    bad.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(priors.PriorError) as error:
        priors.load(bad)
    assert "reality_checks" in str(error.value) and str(bad) in str(error.value) and "\n" not in str(error.value)


def _calibrate(tmp_path, small_priors, checks: dict, name: str):
    spec = yaml.safe_load(small_priors.read_text(encoding="utf-8"))
    small_priors.write_text(yaml.safe_dump(spec | {"reality_checks": checks}, allow_unicode=True), encoding="utf-8")
    out = tmp_path / name
    return CliRunner().invoke(main, ["calibrate", "--out", str(out)]), out


def _share_2035(out) -> np.ndarray:
    """Each written draw's and the mode's industry share of GDP in 2035, run to 2035."""
    import pandas as pd

    from nxmfg.calibration import runner

    draws = pd.read_csv(out / "posterior.csv", comment="#")
    mode = yaml.safe_load((out / "fitted.yaml").read_text(encoding="utf-8"))
    X = np.vstack([draws[list(mode)].to_numpy(), [list(mode.values())]])
    values = runner.ensemble_evaluator(list(mode), reality.quantities, 2035)(X)
    return draws, values["industry_share_of_gdp_pct"].sel(year=2035).to_numpy()


def test_a_check_keeps_the_draws_that_pass_in_order_and_a_mode_that_passes(tmp_path, small_priors):
    free, out = _calibrate(tmp_path, small_priors, {}, "free")
    assert free.exit_code == 0, free.output
    draws, share = _share_2035(out)
    ceiling = float(np.median(share[:-1]))
    assert (share[:-1] > ceiling).any(), "the check must rule something out"
    check = {"industry_share_of_gdp_pct_2035": {"quantity": "industry_share_of_gdp_pct", "years": [2035, 2035],
                                                "range": [0.0, ceiling], "reason": "test"}}
    checked, out = _calibrate(tmp_path, small_priors, check, "checked")
    assert checked.exit_code == 0, checked.output
    kept, kept_share = _share_2035(out)
    assert (kept_share <= ceiling + 1e-9).all()         # every draw and the mode pass
    expected = draws[share[:-1] <= ceiling].reset_index(drop=True)
    assert kept.equals(expected), "the pool's draws that pass, in the same seeded order"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert re.search(r"reality_checks: 1 \(priors.yaml reality_checks, sha256 [0-9a-f]{12}\)", report)
    assert "| industry_share_of_gdp_pct_2035 | industry_share_of_gdp_pct | 2035-2035 |" in report


def test_a_check_nothing_passes_is_a_one_line_error(tmp_path, small_priors):
    check = {"impossible": {"quantity": "industry_share_of_gdp_pct", "years": [2035, 2035], "range": [0.0, 0.1],
                            "reason": "test"}}
    result, out = _calibrate(tmp_path, small_priors, check, "none")
    assert result.exit_code != 0
    message = result.output.strip().splitlines()[-1]
    assert "reality_checks" in message and str(small_priors) in message and "Traceback" not in result.output


def test_the_shipped_fit_and_a_fit_given_are_candidates_of_the_polish_named_in_the_header(tmp_path, small_priors):
    """The shipped fit (calibration/fitted.yaml), and a fit given with `nxmfg calibrate --start FIT`, join the
    candidates of the polish, so the mode is at least as high as each; the fit's header names the files and
    their hashes; a start lacking a fitted constant is a one-line error naming the file and the constant."""
    from nxmfg.calibration import fits, pipeline, runner

    first, out = _calibrate(tmp_path, small_priors, {}, "first")
    assert first.exit_code == 0, first.output
    setup = pipeline.prepare(None, None)
    names = setup.problem.names
    log_posterior = lambda path: setup.problem.log_posterior(   # noqa: E731
        np.array([[yaml.safe_load(path.read_text(encoding="utf-8"))[n] for n in names]]), setup.evaluate)[0][0]
    assert log_posterior(out / "fitted.yaml") >= log_posterior(runner.FITTED) - 1e-9
    assert (f"# mode_start_shipped: fitted.yaml (sha256 {fits.sha256(runner.FITTED)[:12]}, model "
            f"{model.version()}): {len(names)} of {len(names)} fitted constants") in (
        out / "fitted.yaml").read_text(encoding="utf-8")
    given = tmp_path / "start.yaml"
    given.write_text((out / "fitted.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    again = tmp_path / "again"
    result = CliRunner().invoke(main, ["calibrate", "--out", str(again), "--start", str(given)])
    assert result.exit_code == 0, result.output
    assert log_posterior(again / "fitted.yaml") >= log_posterior(given) - 1e-9
    assert f"# mode_start_given: start.yaml (sha256 {fits.sha256(given)[:12]})" in (
        again / "fitted.yaml").read_text(encoding="utf-8")
    lacking = tmp_path / "lacking.yaml"
    lacking.write_text(yaml.safe_dump({names[0]: 1.0}), encoding="utf-8")
    result = CliRunner().invoke(main, ["calibrate", "--out", str(tmp_path / "bad"), "--start", str(lacking)])
    message = result.output.strip().splitlines()[-1]
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert str(lacking) in message and names[1] in message
