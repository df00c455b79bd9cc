"""Sobol' study machinery: known indices, resumable chunks, target odds, clear errors on bad study files."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from SALib.test_functions import Ishigami

from nxmfg import cli
from nxmfg.sensitivity import Study, analyse, load, run_study
from nxmfg.sensitivity.study import check

PI = np.pi


def ishigami_study(samples: int = 1024, second_order: bool = True, seed: int = 7,
                   inert: bool = False) -> Study:
    """Ishigami (1990) as a study: x1..x3 ~ U(-pi, pi); `inert` adds an x4 the function ignores."""
    names = ["x1", "x2", "x3"] + (["x4"] if inert else [])
    return Study.model_validate({
        "name": "ishigami", "samples": samples, "seed": seed, "second_order": second_order,
        "uncertainties": {n: [-PI, PI] for n in names},
        "outcomes": [{"indicator": "ishigami", "year": 2025}]})


def ishigami(X: np.ndarray) -> np.ndarray:
    return Ishigami.evaluate(X[:, :3])


def indices(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "indices.csv").set_index("parameter")


def test_pipeline_reproduces_the_analytic_ishigami_indices(tmp_path):
    """S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244), S13 = 0.244 (Saltelli et al. 2008, 4.3)."""
    tables = run_study(ishigami_study(), ishigami, tmp_path, chunk_rows=3000, progress=False)
    found = indices(tmp_path)
    np.testing.assert_allclose(found["S1"], [0.314, 0.442, 0.0], atol=0.05)
    np.testing.assert_allclose(found["ST"], [0.558, 0.442, 0.244], atol=0.05)
    assert (found["S1_conf"] > 0).all()
    assert (found["ST_conf"] > 0).all()
    pairs = tables["second_order"].set_index(["parameter", "other"])["S2"]
    assert pairs["x1", "x3"] == pytest.approx(0.244, abs=0.05)
    assert pairs["x1", "x2"] == pytest.approx(0.0, abs=0.05)


def test_a_parameter_the_outcome_ignores_gets_zero_indices(tmp_path):
    run_study(ishigami_study(inert=True, second_order=False), ishigami, tmp_path, progress=False)
    inert = indices(tmp_path).loc["x4"]
    assert inert["S1"] == pytest.approx(0, abs=1e-12)
    assert inert["ST"] == pytest.approx(0, abs=1e-12)


def test_samples_and_outcomes_are_saved_so_the_analysis_can_be_redone(tmp_path):
    first = run_study(ishigami_study(samples=256), ishigami, tmp_path, chunk_rows=500, progress=False)
    with np.load(tmp_path / "samples.npz") as saved:
        np.testing.assert_array_equal(saved["outcomes"][:, 0], ishigami(saved["X"]))
    again = analyse(tmp_path)
    pd.testing.assert_frame_equal(first["indices"], again["indices"])
    metadata = json.loads((tmp_path / "metadata.json").read_text())
    assert metadata["seed"] == 7
    assert metadata["study"]["samples"] == 256
    written = {p.name for p in tmp_path.iterdir()}
    assert {"indices.png", "st_heatmap.png", "summary.md", "convergence.csv"} <= written


class Crash(RuntimeError):
    """Raised by a fake evaluator to simulate a study that dies part-way."""


def crashing_after(chunks: int):
    """An evaluator that dies (like a killed job) when asked for chunk number `chunks` + 1."""
    calls = []

    def evaluate(X):
        if len(calls) == chunks:
            raise Crash
        calls.append(len(X))
        return ishigami(X)
    return evaluate


def test_a_resumed_study_skips_finished_chunks_and_matches_an_uninterrupted_one(tmp_path):
    study = ishigami_study(samples=512)
    whole = run_study(study, ishigami, tmp_path / "whole", chunk_rows=1000, progress=False)
    with pytest.raises(Crash):
        run_study(study, crashing_after(2), tmp_path / "resumed", chunk_rows=1000, progress=False)
    chunks = tmp_path / "resumed" / "chunks"
    assert len(list(chunks.glob("chunk_*.npz"))) == 2
    assert not list(chunks.glob(".*tmp")), "a crash must leave no half-written file"
    evaluated = []
    resumed = run_study(study, lambda X: evaluated.append(len(X)) or ishigami(X), tmp_path / "resumed",
                        resume=True, chunk_rows=1000, progress=False)
    assert sum(evaluated) == 512 * 8 - 2000
    pd.testing.assert_frame_equal(whole["indices"], resumed["indices"], check_exact=True)
    pd.testing.assert_frame_equal(whole["second_order"], resumed["second_order"], check_exact=True)


def test_resume_refuses_chunks_from_another_study(tmp_path):
    with pytest.raises(Crash):
        run_study(ishigami_study(samples=256), crashing_after(1), tmp_path, chunk_rows=500, progress=False)
    with pytest.raises(ValueError, match="another study"):
        run_study(ishigami_study(samples=256, seed=8), ishigami, tmp_path, resume=True, progress=False)


def test_a_study_too_small_to_settle_is_flagged(tmp_path):
    tables = run_study(ishigami_study(samples=16, second_order=False), ishigami, tmp_path, progress=False)
    assert not tables["unsettled"].empty
    assert "Warning" in (tmp_path / "summary.md").read_text()
    assert set(tables["convergence"]["samples"]) == {4, 8, 16}


def test_morris_screening_separates_active_from_inert_parameters(tmp_path):
    tables = run_study(ishigami_study(inert=True), ishigami, tmp_path, method="morris", progress=False)
    mu_star = tables["morris"].set_index("parameter")["mu_star"]
    assert mu_star["x4"] == pytest.approx(0, abs=1e-12)
    assert (mu_star[["x1", "x2"]] > 1).all()
    assert (tmp_path / "morris.csv").exists()
    assert (tmp_path / "morris.png").exists()


def staged(X: np.ndarray) -> dict[str, np.ndarray]:
    """lever_a moves the indicator in year 1 only, lever_b in year 2 only; the target is met iff a > 0.5."""
    series = np.stack([X[:, 0] + 0.01 * X[:, 1], X[:, 1] + 0.01 * X[:, 0]], axis=1)[:, np.newaxis, :]
    met = (X[:, [0]] > 0.5).astype(float)
    return {"outcomes": X[:, [0]] - 0.5, "met": met, "series": series}


staged.series_names = ["indicator"]
staged.series_years = [2021, 2022]


def test_time_resolved_indices_and_target_odds_follow_the_levers(tmp_path):
    study = Study.model_validate({
        "name": "staged", "samples": 512, "seed": 1, "levers": {"lever_a": [0, 1], "lever_b": [0, 1]},
        "outcomes": [{"target": "A-demo"}]})
    tables = run_study(study, staged, tmp_path, progress=False)
    over_time = tables["time_resolved"].set_index(["parameter", "year"])["ST"]
    assert over_time["lever_a", 2021] > 0.9
    assert over_time["lever_b", 2021] < 0.1
    assert over_time["lever_b", 2022] > 0.9
    assert over_time["lever_a", 2022] < 0.1
    assert tables["target_odds"]["probability_met"].item() == pytest.approx(0.5, abs=0.02)
    ks = tables["regional_sensitivity"].set_index("parameter")["ks"]
    assert ks["lever_a"] > 0.95
    assert ks["lever_b"] < 0.1
    box = tables["prim_boxes"].iloc[0]
    assert box["reached"]
    assert box["density"] >= 0.8
    assert "lever_a in [" in box["box"]
    assert "lever_b" not in box["box"]
    assert (tmp_path / "st_over_time.png").exists()


GOOD = """\
name: tiny
samples: 64
seed: 1
levers:
  tech_upgrade_subsidy_rate: [0.0, 0.3]
outcomes:
  - {indicator: gdp_100m_yuan, year: 2025}
"""

BAD = {
    "unknown key": (GOOD + "sampels: 32\n", "sampels"),
    "wrong type": (GOOD.replace("seed: 1", "seed: one"), "seed"),
    "bad distribution": (GOOD.replace("[0.0, 0.3]", "{distribution: lognormal, range: [0, 0.3]}"),
                         "levers.tech_upgrade_subsidy_rate.distribution"),
    "N not a power of 2": (GOOD.replace("samples: 64", "samples: 1000"), "samples"),
    "normal without sd": (GOOD.replace("[0.0, 0.3]", "{distribution: normal, mean: 0.1}"),
                          "levers.tech_upgrade_subsidy_rate"),
    "triangular mode outside range": (
        GOOD.replace("[0.0, 0.3]", "{distribution: triangular, range: [0, 0.3], mode: 0.5}"),
        "levers.tech_upgrade_subsidy_rate"),
    "outcome without year": (GOOD.replace(", year: 2025", ""), "outcomes.0"),
    "lever and uncertainty at once": (GOOD + "uncertainties:\n  tech_upgrade_subsidy_rate: [0, 0.1]\n",
                                      "tech_upgrade_subsidy_rate"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_study_file_gives_one_line_naming_file_and_field(tmp_path, case):
    text, field = BAD[case]
    path = tmp_path / "tiny.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"^.+: .+") as error:
        load(path)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert field in message


CONSTANTS = pd.DataFrame({"value": [0.03, 0.5], "low": [0.0, 0.1], "high": [0.3, 0.9]},
                         index=["tech_upgrade_subsidy_rate", "capital_output_elasticity"])


def test_an_unknown_parameter_name_is_named(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD.replace("tech_upgrade_subsidy_rate", "tech_upgrade_subsidy_rte"))
    with pytest.raises(ValueError, match=r"tiny.yaml: levers.tech_upgrade_subsidy_rte: not a settable"):
        check(path, load(path), CONSTANTS)


def test_ranges_default_to_the_model_and_may_not_leave_it(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD + "uncertainties:\n  capital_output_elasticity: {}\n")
    study = check(path, Study.model_validate(__import__("yaml").safe_load(path.read_text())), CONSTANTS)
    assert study.uncertainties["capital_output_elasticity"].range == (0.1, 0.9)
    path.write_text(GOOD.replace("[0.0, 0.3]", "[0.0, 0.5]"))
    with pytest.raises(ValueError, match=r"levers.tech_upgrade_subsidy_rate.range: .* leaves"):
        check(path, load(path), CONSTANTS)


def test_distributions_map_to_salib_dists(tmp_path):
    study = Study.model_validate({
        "name": "mixed", "samples": 8, "seed": 0, "outcomes": [{"target": "A-x"}],
        "uncertainties": {"a": [0, 1], "b": {"distribution": "normal", "mean": 1, "sd": 0.5},
                          "c": {"distribution": "triangular", "range": [0, 4], "mode": 1},
                          "d": {"distribution": "normal", "mean": 1, "sd": 0.5, "range": [0, 2]}}})
    problem = study.problem()
    assert problem["dists"] == ["unif", "norm", "triang", "truncnorm"]
    assert problem["bounds"] == [[0, 1], [1, 0.5], [0, 4, 0.25], [0, 2, 1, 0.5]]


def test_cli_reports_a_bad_study_file_in_one_line(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD.replace("samples: 64", "samples: 100"))
    result = CliRunner().invoke(cli.main, ["sensitivity", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "samples" in result.output
    assert "power of 2" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("second_order", [True, False])
def test_vectorised_bootstrap_equals_salib_analyze_per_outcome(second_order):
    """The all-outcomes-at-once bootstrap gives SALib.analyze.sobol's numbers, outcome by outcome."""
    from SALib.analyze import sobol

    from nxmfg.sensitivity import analysis

    study = ishigami_study(samples=256, second_order=second_order, inert=True)
    X = analysis.sample(study)
    outcomes = np.stack([ishigami(X), X[:, 3] ** 3 + X[:, 0], np.full(len(X), 2.0)], axis=1)
    ours = analysis.bootstrap_indices(study, outcomes)
    for column in range(2):
        reference = sobol.analyze(study.problem(), outcomes[:, column], calc_second_order=second_order,
                                  seed=study.seed + 1)
        for key, value in ours.items():
            np.testing.assert_allclose(value[..., column], reference[key], atol=1e-12, err_msg=key)
    assert all(np.nan_to_num(value[..., 2]).max() == 0 for value in ours.values()), "a constant outcome"


MODEL_STUDY = """\
name: model_tiny
scenario: plan
levers_from: 2021
samples: 8
seed: 3
levers:
  cultivation_upgrades_per_year: [0, 200]
  intelligent_retrofit_firms_per_year: [0, 500]
uncertainties:
  retrofit_additionality: {distribution: triangular, range: [0.0, 0.3], mode: 0.15}
outcomes:
  - {indicator: new_above_scale_firms_count, year: 2022}
  - {target: B-cnc-key-processes}
"""


@pytest.fixture(scope="module")
def model_study(tmp_path_factory):
    from nxmfg.sensitivity.evaluate import for_model

    path = tmp_path_factory.mktemp("study") / "model_tiny.yaml"
    path.write_text(MODEL_STUDY)
    return for_model(path)


def test_levers_take_their_sampled_value_from_levers_from_and_uncertainties_apply_throughout(model_study):
    study, evaluator, _ = model_study
    X = np.array([[120.0, 250.0, 0.1], [10.0, 400.0, 0.25]])
    params = evaluator.params(X)
    for column, lever in enumerate(study.levers):
        path = params[lever]
        before = path.sel(year=path["year"] < 2021)
        np.testing.assert_allclose(before.isel(year=-1), evaluator.baseline[lever])
        np.testing.assert_array_equal(path.sel(year=2021.0), X[:, column])
    np.testing.assert_array_equal(params["retrofit_additionality"], X[:, 2])


def test_a_study_on_the_model_leaves_history_to_the_uncertainties(model_study, tmp_path):
    """Before `levers_from` no lever has any influence: its total index is exactly 0 there."""
    study, evaluator, context = model_study
    tables = run_study(study, evaluator, tmp_path, progress=False, context=context)
    over_time = tables["time_resolved"]
    before = over_time[(over_time["year"] < 2021) & over_time["parameter"].isin(list(study.levers))]
    assert not before.empty
    assert (before["ST"] == 0).all()
    after = over_time[(over_time["year"] == 2022) & (over_time["indicator"] == "new_above_scale_firms_count")]
    assert after.set_index("parameter")["ST"]["cultivation_upgrades_per_year"] > 0.3
    assert np.isfinite(tables["indices"][["S1", "ST"]].to_numpy()).all()
    assert json.loads((tmp_path / "metadata.json").read_text())["model_version"] == context["model_version"]


STATES_STUDY = """\
name: states_tiny
scenario: baseline
levers_from: 2024
samples: 16
seed: 5
states: true
levers:
  key_projects_per_year: [100, 200]
outcomes:
  - {target: D-rd-active-firms}
"""


def test_a_studys_odds_are_over_the_rows_whose_state_passes_the_reality_checks(tmp_path):
    """As every other surface's (calibration/plausible.py): the rows A and B whose state's baseline passes
    all checks, screened as the states are; the variance shares stay over the whole cube."""
    from nxmfg.calibration import plausible
    from nxmfg.calibration.fits import shipped_fit
    from nxmfg.sensitivity import analysis
    from nxmfg.sensitivity.evaluate import for_model

    path = tmp_path / "states_tiny.yaml"
    path.write_text(STATES_STUDY)
    study, evaluator, context = for_model(path)
    tables = run_study(study, evaluator, tmp_path / "out", progress=False, context=context)
    with np.load(tmp_path / "out" / "samples.npz") as saved:
        X, met, kept = saved["X"], saved["met"], saved["plausible"]
    rows = analysis.independent_rows(study, len(X))
    expected = plausible.screen(shipped_fit(), evaluator._drawn(X[rows]))
    np.testing.assert_array_equal(kept[rows], expected)
    assert 0 < expected.sum() < len(rows)               # some rows' states fail a check, some pass
    odds = tables["target_odds"].iloc[0]
    assert odds["runs"] == expected.sum()
    assert odds["probability_met"] == pytest.approx(np.nanmean(met[rows[expected], 0]))
    assert odds["over"].endswith(f"those whose state passes the reality checks ({expected.sum()} of {len(rows)})")
    assert len(tables["indices"]) == len(study.factors)


def test_an_outcome_naming_an_unmodelled_target_is_refused(tmp_path):
    from nxmfg.sensitivity.evaluate import for_model

    path = tmp_path / "model_tiny.yaml"
    path.write_text(MODEL_STUDY.replace("B-cnc-key-processes", "B-no-such-target"))
    with pytest.raises(ValueError, match=r"model_tiny.yaml: outcomes.1.target: 'B-no-such-target' is not in"):
        for_model(path)


def test_a_lever_the_base_scenario_moves_earlier_follows_the_scenario_until_levers_from():
    from nxmfg.sensitivity.evaluate import ModelEvaluator

    study = Study.model_validate({"name": "early", "samples": 8, "seed": 0, "levers_from": 2022,
                                  "levers": {"key_projects_per_year": [0, 400]},
                                  "outcomes": [{"indicator": "gdp_100m_yuan", "year": 2023}]})
    scenario_path = pd.Series({2020 - 1e-6: 60.0, 2020.0: 100.0, 2025.0: 200.0})
    evaluator = ModelEvaluator(study, {"key_projects_per_year": scenario_path},
                               {"key_projects_per_year": 60.0}, [])
    path = evaluator.params(np.array([[10.0], [300.0]]))["key_projects_per_year"]
    years = path["year"].to_numpy()
    np.testing.assert_allclose(np.interp(2019.0, years, path[0]), 60.0)
    np.testing.assert_allclose(np.interp(2021.0, years, path[0]), 120.0)     # on the scenario's 2020-25 ramp
    np.testing.assert_array_equal(path.sel(year=2022.0), [10.0, 300.0])


def test_cli_runs_resumes_and_reanalyses_a_study_on_the_model(tmp_path):
    study, out = tmp_path / "model_tiny.yaml", tmp_path / "out"
    study.write_text(MODEL_STUDY)
    command = ["sensitivity", str(study), "--out", str(out), "--chunk-runs", "64"]
    first = CliRunner().invoke(cli.main, command)
    assert first.exit_code == 0, first.output
    indices_csv = (out / "indices.csv").read_text()
    chunk = out / "chunks" / "chunk_00000.npz"
    saved_at = chunk.stat().st_mtime_ns
    resumed = CliRunner().invoke(cli.main, [*command, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert chunk.stat().st_mtime_ns == saved_at, "a finished chunk must not be evaluated again"
    assert (out / "indices.csv").read_text() == indices_csv
    again = CliRunner().invoke(cli.main, [*command, "--analyse-only"])
    assert again.exit_code == 0, again.output
    assert (out / "indices.csv").read_text() == indices_csv


def test_an_outcome_with_failed_runs_gets_no_indices_and_the_others_still_do(tmp_path):
    def partly_failing(X):
        broken = ishigami(X)
        broken[X[:, 0] > 3.0] = np.nan
        return np.stack([ishigami(X), broken], axis=1)

    study = ishigami_study(samples=256, second_order=False).model_dump()
    study["outcomes"] = [{"indicator": "ishigami", "year": 2025}, {"indicator": "broken", "year": 2025}]
    tables = run_study(Study.model_validate(study), partly_failing, tmp_path, progress=False)
    found = tables["indices"].set_index(["outcome", "parameter"])["ST"]
    assert found["ishigami@2025"].notna().all()
    assert found["broken@2025"].isna().all()
    assert "broken@2025**: no indices" in (tmp_path / "summary.md").read_text()


def test_resume_evaluates_a_damaged_chunk_again_and_gives_the_same_indices(tmp_path):
    """A chunk cut short since it was saved (a full disk, a copy) is not taken as finished."""
    study = ishigami_study(samples=256, second_order=False)
    whole = run_study(study, ishigami, tmp_path / "whole", chunk_rows=300, progress=False)
    out = tmp_path / "damaged"
    run_study(study, ishigami, out, chunk_rows=300, progress=False)
    chunk = out / "chunks" / "chunk_00001.npz"
    chunk.write_bytes(chunk.read_bytes()[:100])
    evaluated = []
    resumed = run_study(study, lambda X: evaluated.append(len(X)) or ishigami(X), out, resume=True,
                        chunk_rows=300, progress=False)
    assert evaluated == [300]
    pd.testing.assert_frame_equal(whole["indices"], resumed["indices"], check_exact=True)


def test_a_damaged_study_folder_gives_one_line_naming_the_file(tmp_path):
    run_study(ishigami_study(samples=64, second_order=False), ishigami, tmp_path, chunk_rows=100, progress=False)
    (tmp_path / "chunks" / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"chunks/manifest.json: unreadable .*; rerun without --resume"):
        run_study(ishigami_study(samples=64, second_order=False), ishigami, tmp_path, resume=True, progress=False)
    (tmp_path / "samples.npz").write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(ValueError, match=r"samples.npz: unreadable \(.*\); run the study again$"):
        analyse(tmp_path)
    (tmp_path / "metadata.json").write_text('{"study": {"name": "x"}}')
    with pytest.raises(ValueError, match=r"metadata.json: unreadable \(.*\); run the study again$"):
        analyse(tmp_path)


def test_an_interrupted_study_is_marked_incomplete_and_not_analysed(tmp_path):
    with pytest.raises(Crash):
        run_study(ishigami_study(samples=256), crashing_after(1), tmp_path, chunk_rows=1000, progress=False)
    assert (tmp_path / "INCOMPLETE").exists()
    assert [p.name for p in (tmp_path / "chunks").glob("chunk_*.npz")] == ["chunk_00000.npz"]
    (tmp_path / "samples.npz").write_bytes(b"")            # an older study's results left in the folder
    (tmp_path / "metadata.json").write_text("{}")
    with pytest.raises(ValueError, match="marked INCOMPLETE by an interrupted study"):
        analyse(tmp_path)
    run_study(ishigami_study(samples=256), ishigami, tmp_path, resume=True, chunk_rows=1000, progress=False)
    assert not (tmp_path / "INCOMPLETE").exists()
    assert analyse(tmp_path)["indices"].notna().all().all()


def test_the_scheduler_check_passes_a_listening_port_and_refuses_a_closed_one():
    import socket

    from nxmfg.sensitivity.pipeline import check_scheduler

    listener = socket.create_server(("127.0.0.1", 0))
    address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    check_scheduler(address)
    listener.close()
    with pytest.raises(ValueError, match=rf"^--scheduler {address}: no Dask scheduler there \(.*refused"):
        check_scheduler(address)
