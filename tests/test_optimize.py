"""`nxmfg optimize` on the model: odds counted right, packages that simulate to the optimiser's own figures,
a resumed search that ends where an uninterrupted one does, and every output written."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import nxmfg
from nxmfg import cli, model, scenarios
from nxmfg.api.optimization import prepare
from nxmfg.optimization import analysis, evaluate, pipeline, study

SHIPPED = Path(study.__file__).with_name("packages_2027.yaml")
# The engine matches PySD to the bit (test_ensemble); the optimiser's figures reach these tests through CSV
# and YAML files written at 10 significant digits.
RTOL = 1e-6


@pytest.fixture(scope="module")
def small_study(tmp_path_factory) -> Path:
    """The shipped study at toy size: 6 candidates x 3 states, 3 generations."""
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data |= {"name": "small", "population": 6, "generations": 3}
    data["states"] = {"count": 3}
    path = tmp_path_factory.mktemp("study") / "small.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def finished(small_study, tmp_path_factory):
    out = tmp_path_factory.mktemp("optimize")
    optimization = nxmfg.optimize(small_study, out, progress=False)
    optimization.write(out, lang="en")
    return out, optimization


def test_every_output_is_written_and_the_folder_is_marked_finished(finished):
    out, optimization = finished
    pareto = pd.read_csv(out / "pareto.csv", index_col="package")
    assert len(pareto) == len(optimization.pareto) >= 1
    assert sorted(p.stem for p in (out / "packages").glob("package_*.yaml")) == sorted(pareto.index)
    for name in ("pareto_central.csv", "reachability.csv", "archive.csv", "states.csv", "cost_vs_targets.png",
                 "summary.md", "report.html", "metadata.yaml", "checkpoint.npz"):
        assert (out / name).stat().st_size > 0, name
    assert not list(out.glob(".nxmfg-tmp.*")) and not (out / "INCOMPLETE").exists()
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "The cheapest package that meets >=" in summary or "No package" in summary
    assert "## Reachability per target" in summary
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Reachability of the targets" in report and "D-sei-share" in report
    metadata = yaml.safe_load((out / "metadata.yaml").read_text(encoding="utf-8"))
    assert metadata["runs"] == (6 * 3 + 2) * (3 + 1) and metadata["states"]["count"] == 3
    assert "P(met) over 3 states: fit posterior, assumptions, outlooks" in summary


def test_pareto_packages_are_not_dominated_and_each_dominated_package_is(finished):
    _, optimization = finished
    archive = optimization.outcome.archive
    F = archive["F"]
    front = analysis.pareto_indices(archive)
    for i in front:
        assert not ((F <= F[i]).all(axis=1) & (F < F[i]).any(axis=1)).any()
    others = np.setdiff1d(analysis.unique_candidates(archive), front)
    for i in others:
        dominated = ((F[front] <= F[i]).all(axis=1) & (F[front] < F[i]).any(axis=1)).any()
        assert dominated or any(np.array_equal(F[i], F[j]) for j in front)


def test_a_pareto_package_file_simulates_to_the_optimisers_own_figures(finished, tmp_path):
    """`nxmfg simulate packages/package_001.yaml` runs unchanged and gives the central state's margins and
    cost that the optimiser reported for it."""
    out, optimization = finished
    central = pd.read_csv(out / "pareto_central.csv")
    pareto = pd.read_csv(out / "pareto.csv", index_col="package")
    for name in pareto.index[[0, -1]]:
        path = out / "packages" / f"{name}.yaml"
        mine = central[central["package"] == name].set_index("id")
        result = CliRunner().invoke(cli.main, ["simulate", str(path), "--out", str(tmp_path / name), "--lang", "en"])
        assert result.exit_code == 0, result.output
        printed = pd.read_csv(tmp_path / name / "attainment.csv").set_index("id")   # 6 significant digits
        np.testing.assert_allclose(printed.loc[mine.index, "margin"], mine["margin"], rtol=1e-5, atol=1e-9)
        run = nxmfg.run(path)                                                       # full precision
        simulated = run.attainment.set_index("id").loc[mine.index]
        np.testing.assert_allclose(simulated["margin"], mine["margin"], rtol=RTOL, atol=1e-9)
        clear = mine["margin"].abs() > 1e-6 * mine["threshold"].abs().clip(lower=1)
        assert (simulated.loc[clear, "met"] == mine.loc[clear, "met"]).all()
        cumulative = run.indicators["fiscal_cost_cumulative_100m_yuan"]
        cost = float(cumulative.sel(year=2028) - cumulative.sel(year=2024))
        assert cost == pytest.approx(pareto.at[name, "central_cost_total"], rel=RTOL)


def test_p_met_is_the_share_of_states_with_a_margin_of_at_least_zero_checked_state_by_state(small_study):
    """One package in 3 states (and the central run) in one ensemble call against the package's own batch run
    as `nxmfg simulate` runs it (calibration/worlds.py), judged by scenarios.attainment one run at a time."""
    from nxmfg.api.inputs import history
    from nxmfg.calibration import worlds

    setup = prepare(small_study)
    package = setup.space.scenario(setup.space.encode({"intelligent_retrofit_firms_per_year": 400}), "p", "p",
                                   setup.references["baseline"])
    batched = setup.evaluator([package])
    states = setup.states
    alone, _ = worlds.run(package, setup.fit, states, {"final_time": 2028, "saveper": 1},
                          names=[t.indicator for t in setup.targets], history=history())
    margins = []
    for s in range(states.count + 1):
        table = scenarios.attainment(alone.isel(run=s, drop=True), setup.targets, history()).set_index("id")
        margins.append(table.loc[[t.id for t in setup.targets], "margin"].to_numpy())
    margins = np.array(margins)                                   # [run, target]; run 0 central
    n = len(setup.targets)                                        # the evaluator judges the quotas after them
    np.testing.assert_allclose(batched.margin[0][:, :n], margins, rtol=RTOL, atol=1e-9)
    by_hand = (margins[1:] >= 0).sum(axis=0) / states.count
    np.testing.assert_array_equal(batched.probability[0][:n], by_hand)
    assert 0 < by_hand.sum() < len(setup.targets)                 # a case with targets met and missed


def test_the_objectives_of_a_hand_made_case():
    """Two packages, four states, three targets weighted 1, 2, 1; costs against a baseline of 10 a state. The
    central run (first, missing every target at a cost of 1000) counts in no expectation."""
    margin = np.array([[[-9.0, -9, -9], [1.0, -1, 0], [2, 1, -1], [0.5, 3, -2], [1, -0.5, -1]],
                       [[-9.0, -9, -9], [-1.0, 1, 1], [-2, 1, 1], [-1, 1, 1], [-1, 1, -1]]])
    met = margin >= 0
    outcomes = evaluate.Outcomes(margin, met, np.array([[1000.0, 12, 14, 10, 12], [1000, 30, 30, 30, 30]]), margin)
    targets = [scenarios.Target.model_validate({
        "id": f"U-t{i}", "doc": "U", "clause": "x", "target": "x", "year": 2027, "indicator": "gdp_100m_yuan",
        "measure": "level", "threshold": 1.0, "direction": "at_least", "kind": "modelled"}) for i in range(3)]
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data["targets"] = {"U-t0": 1, "U-t1": 2, "U-t2": 1}
    data["budget_cap"] = 10
    chosen = study.Study.model_validate(data)
    np.testing.assert_array_equal(outcomes.probability, [[1.0, 0.5, 0.25], [0, 1, 0.75]])
    F, G = evaluate.objectives(outcomes, chosen, targets, np.full(5, 10.0))
    np.testing.assert_allclose(F[:, 0], [-(1 + 2 * 0.5 + 0.25), -(0 + 2 + 0.75)])
    np.testing.assert_allclose(F[:, 1], [2.0, 20.0])               # incremental: mean of (cost - 10)
    np.testing.assert_allclose(F[:, 2], [-1, -2])                  # weighted count with P >= 0.8
    np.testing.assert_allclose(G[:, 0], [2 - 10, 20 - 10])


class Killed(KeyboardInterrupt):
    """Ctrl-C (or a kill) in the middle of a generation's model runs."""


def test_a_search_interrupted_mid_generation_resumes_to_the_same_front(finished, small_study, tmp_path,
                                                                       monkeypatch):
    _, whole = finished
    calls = []
    original = evaluate.Evaluator.__call__

    def dies_at_third(self, packages):            # call 1: baseline and plan; 2: generation 1; 3: generation 2
        calls.append(1)
        if len(calls) == 3:
            raise Killed
        return original(self, packages)

    monkeypatch.setattr(evaluate.Evaluator, "__call__", dies_at_third)
    with pytest.raises(Killed):
        nxmfg.optimize(small_study, tmp_path, progress=False)
    monkeypatch.setattr(evaluate.Evaluator, "__call__", original)
    assert (tmp_path / "checkpoint.npz").exists()
    resumed = nxmfg.optimize(small_study, tmp_path, resume=True, progress=False)
    pd.testing.assert_frame_equal(resumed.pareto, whole.pareto)
    np.testing.assert_array_equal(resumed.outcome.archive["F"], whole.outcome.archive["F"])


def test_ctrl_c_says_how_to_resume_and_exits_130(small_study, tmp_path, monkeypatch):
    def interrupted(self, packages):
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluate.Evaluator, "__call__", interrupted)
    result = CliRunner().invoke(cli.main, ["optimize", str(small_study), "--out", str(tmp_path), "--lang", "en"])
    assert result.exit_code == 130
    assert "--resume" in result.output
    assert "Traceback" not in result.output


def test_reachability_flags_every_target_and_never_falls_below_the_baseline(finished):
    _, optimization = finished
    table = optimization.reachability.set_index("id")
    assert set(table["flag"]) <= set(analysis.FLAGS)
    history = table[table["year"] <= 2023]
    assert len(history) > 0 and (history["flag"] == "decided by history").all()
    ahead = table.loc[[t.id for t in optimization.outcome.setup.targets]]
    # the baseline's own levels are the first candidate, so the best found is at least the baseline's odds
    assert (ahead["best_p_met"] >= ahead["baseline_p_met"] - 1e-12).all()
    assert (ahead["lowest_p_met"] <= ahead["best_p_met"]).all()
    assert (ahead.loc[ahead["flag"] == "unreachable", "best_p_met"] == 0).all()
    # the best value is the best any package gives in the central run (not one of the states)
    archive, chosen = optimization.outcome.archive, analysis.unique_candidates(optimization.outcome.archive)
    for j, target in enumerate(optimization.outcome.setup.targets):
        margins = archive["central_margin"][chosen, j]
        best = archive["central_value"][chosen[np.nanargmax(margins)], j]
        assert ahead.at[target.id, "best_value"] == pytest.approx(best)
    assert ahead["decided_by_assumptions"].notna().all()         # calibration/assumption_shares.csv covers D


def test_the_first_generation_holds_the_baseline_and_the_plan(small_study):
    setup = prepare(small_study)
    first = setup.space.decode(pipeline.initial_population(setup))
    levels = dict(zip([c for c in setup.space.table(first).columns], first[0], strict=True))
    baseline = model.baseline()
    assert levels["key_projects_per_year"] == baseline["key_projects_per_year"]
    plan = dict(zip(setup.space.table(first).columns, first[1], strict=True))
    assert plan["key_projects_per_year"] == 100                      # scenarios/plan.yaml
    assert plan["interest_subsidy_pp"] == 0.5


def test_states_are_the_tools_own_and_reproducible_from_the_seed(small_study):
    from nxmfg.calibration import states

    one, two = prepare(small_study).states, prepare(small_study).states
    pd.testing.assert_frame_equal(one.table(), two.table())
    pd.testing.assert_frame_equal(one.table(), states.draw(prepare(small_study).fit, count=3).table())


def test_a_new_search_into_a_finished_folder_keeps_its_results_until_the_new_ones_move_in(finished, tmp_path):
    """prepare_folder removes only what killed runs left and the checkpoint; the previous results stay whole
    (the next write stages its files and removes the old run's leftovers by its manifest)."""
    from nxmfg.optimization import output
    from nxmfg.optimization.checkpoint import NAME as CHECKPOINT

    out, _ = finished
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("pareto.csv", "summary.md", "metadata.yaml", CHECKPOINT):
        (copy / name).write_bytes((out / name).read_bytes())
    (copy / ".nxmfg-tmp.999999999.abc123").write_text("left by a kill")
    output.prepare_folder(copy, resume=False)
    assert sorted(p.name for p in copy.iterdir()) == ["metadata.yaml", "pareto.csv", "summary.md"]
    (copy / CHECKPOINT).write_bytes((out / CHECKPOINT).read_bytes())
    output.prepare_folder(copy, resume=True)
    assert (copy / CHECKPOINT).exists()


def test_the_reports_reachability_table_shows_odds_and_flags_in_the_readers_language():
    from nxmfg.scenarios import report_tables as report

    table = pd.DataFrame({"id": ["D-sei-share", "D-cnc-key-processes"], "year": [2027, 2027],
                          "threshold": [25.0, 70.0], "best_value": [10.83, 76.99],
                          "best_p_met": [0.0, 0.953125], "cheapest_package": ["package_001", "reach_002"],
                          "cheapest_cost_expected": [-147.9, 12.5], "baseline_p_met": [0.0, 0.03125],
                          "plan_p_met": [0.0, 0.0625], "flag": ["unreachable", "lever-dependent"]})
    chinese, english = report.reachability_html(table, "zh"), report.reachability_html(table, "en")
    assert "无法达成" in chinese and "取决于政策杠杆" in chinese and "unreachable" not in chinese
    assert "可达最优值" in chinese and "Best value reached" in english
    assert "unreachable" in english and "lever-dependent" in english
    assert "达标组合2" in chinese and "reach package 2" in english and "reach_002" not in chinese   # names for people
    for page in (chinese, english):
        assert "95%" in page and "12.5" in page
        assert "10.8" in page and "77" in page                   # the gap of the unreachable target is stated
        assert "package_001" not in page and "组合1<" not in page and "-148" not in page   # none "reaches" 0 %


SHIPPED_STUDY = Path(__file__).resolve().parents[1] / "docs" / "studies" / "packages_2027"


@pytest.mark.parametrize("which", ["headline", "cheapest"])
def test_the_shipped_studys_packages_belong_to_this_model(which):
    """docs/studies/packages_2027 is what `nxmfg optimize` gave on this model: its headline package and the
    cheapest Pareto package simulate to the central state's targets met and cost in its pareto.csv (rerun
    the study after a change of the model)."""
    shipped = SHIPPED_STUDY
    pareto = pd.read_csv(shipped / "pareto.csv", index_col="package")
    headline = yaml.safe_load((shipped / "metadata.yaml").read_text(encoding="utf-8"))["headline_package"]
    written = [p for p in pareto.index if (shipped / "packages" / f"{p}.yaml").exists()]
    name = headline if which == "headline" else pareto.loc[written, "cost_expected"].idxmin()
    run = nxmfg.run(shipped / "packages" / f"{name}.yaml")
    ahead = run.attainment[run.attainment["id"].str.startswith("D-")]
    assert int(ahead["met"].sum()) == pareto.at[name, "central_targets_met"]
    cumulative = run.indicators["fiscal_cost_cumulative_100m_yuan"]
    cost = float(cumulative.sel(year=2028) - cumulative.sel(year=2024))
    assert cost == pytest.approx(pareto.at[name, "central_cost_total"], rel=1e-4)
