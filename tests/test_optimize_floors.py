"""Packages a planner can defend (issue 22): no package cuts a programme that exists (lever floors, with their
sources), and none buys targets by breaking D's energy quota (quotas as constraints)."""

from pathlib import Path

import numpy as np
import pytest
import yaml

import nxmfg
from nxmfg import model
from nxmfg.optimization import analysis, evaluate, output, packages, study

SHIPPED = Path(study.__file__).with_name("packages_2027.yaml")


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def finished(shipped, tmp_path_factory):
    """The shipped study at toy size: 6 candidates x 3 states, 3 generations."""
    data = shipped | {"name": "small", "population": 6, "generations": 3, "states": {"count": 3}}
    folder = tmp_path_factory.mktemp("floors")
    optimization = nxmfg.optimize(_write(folder, data), folder / "out", progress=False)
    return optimization


def test_the_shipped_study_cuts_no_programme_the_baseline_runs(shipped):
    """Every lever the baseline runs above its range's low end (a programme that exists) has a floor at least
    its baseline size, with a source naming the document; the documented sizes are the documents' (B, C)."""
    levers = study.read(SHIPPED).levers
    baseline = model.constants()["value"]
    for name, lever in levers.items():
        if baseline[name] > lever.range[0]:
            assert lever.floor is not None, f"{name}: the baseline's programme ({baseline[name]:g}) may be cut"
            assert lever.floor.value >= baseline[name] - 1e-12, name
            assert any(doc in lever.floor.source for doc in ("B ", "C ")), lever.floor.source
    # The three programmes whose size a document states (../shared/PLAN_TARGETS.md; the .mdl's history lookups).
    assert levers["key_projects_per_year"].floor.value == 100
    assert levers["intelligent_retrofit_firms_per_year"].floor.value == 100
    assert levers["solid_waste_demo_firms_per_year"].floor.value == 10


def test_every_evaluated_package_keeps_every_floor(finished):
    """Each of the archive's candidates, decoded as evaluated and written, and each package file's levers."""
    setup, archive = finished.outcome.setup, finished.outcome.archive
    table = setup.space.table(archive["decoded"])
    floored = {name: lever.floor.value for name, lever in setup.study.levers.items() if lever.floor is not None}
    assert floored
    for name, floor in floored.items():
        assert (table[name] >= floor - 1e-12).all(), (name, table[name].min())
    for name, row in finished.pareto["archive_row"].items():
        scenario = output.package_scenario(finished.outcome, archive["decoded"][int(row)], name)
        for lever, floor in floored.items():
            assert packages.level_of(scenario.levers[lever]) >= floor - 1e-12, (name, lever)


def test_a_level_below_a_floor_is_raised_to_it_and_flagged_as_the_floor(shipped, tmp_path):
    path = _write(tmp_path, shipped)
    chosen = study.read(path)
    baseline = model.constants()["value"].to_dict()
    space = packages.Space(chosen, baseline)
    low, _ = space.bounds
    column = space.columns.index(("key_projects_per_year", "level"))
    assert low[column] == 100
    x = space.encode({"key_projects_per_year": 0, "intelligent_retrofit_firms_per_year": 0})
    levels = space.table(x[None, :]).iloc[0]
    assert levels["key_projects_per_year"] == 100 and levels["intelligent_retrofit_firms_per_year"] == 100
    flags = packages.at_bounds(chosen, levels)
    assert "key_projects_per_year:floor" in flags and "key_projects_per_year:low" not in flags
    assert "cultivation_upgrades_per_year:low" in flags            # no programme: its low end is a bound


@pytest.mark.parametrize("floor, problem", [(400, "must lie in the range"), (300, "must lie in the range")])
def test_a_floor_outside_the_range_is_one_line_naming_the_lever(shipped, tmp_path, floor, problem):
    data = yaml.safe_load(yaml.safe_dump(shipped))
    data["levers"]["key_projects_per_year"]["floor"]["value"] = floor
    with pytest.raises(study.StudyError) as error:
        study.read(_write(tmp_path, data))
    assert "levers.key_projects_per_year" in str(error.value) and problem in str(error.value)
    assert "\n" not in str(error.value)


def test_a_quota_on_an_unknown_indicator_is_one_line_naming_it(shipped, tmp_path):
    from nxmfg.scenarios import load_targets

    data = yaml.safe_load(yaml.safe_dump(shipped))
    data["quotas"]["energy_per_industrial_va"]["indicator"] = "energy_intensity_change"
    path = _write(tmp_path, data)
    with pytest.raises(study.StudyError, match=r"quotas\.energy_per_industrial_va\.indicator"):
        study.check(path, study.read(path), model.constants(), {t.id: t for t in load_targets()})
    data["quotas"]["energy_per_industrial_va"] |= {"indicator": "industry_energy_intensity_change_pct",
                                                   "measure": "change_vs"}     # change_vs needs base_year
    with pytest.raises(study.StudyError, match="base_year"):
        study.read(_write(tmp_path, data))


def test_the_quota_constraint_of_a_hand_made_case():
    """Three packages, two states (and the central run, which no expectation counts), two quotas: the first
    the baseline keeps (expected margin 1), the second it misses (expected margin -2)."""
    margin = np.array([[[-50.0, -50], [0.5, -1], [0.0, -3]],       # keeps 1 (0.25 >= 0); 2 at -2: no worse
                       [[50.0, 50], [-0.5, 0], [0.4, 0]],          # breaks 1 (-0.05 < 0)
                       [[50.0, 50], [1.0, -2.5], [1.0, -2]]])      # keeps 1; 2 at -2.25 < -2: worse
    outcomes = evaluate.Outcomes(margin, margin >= 0, np.zeros((3, 3)), margin)
    G, expected = evaluate.quota_constraints(outcomes, np.array([1.0, -2.0]))
    np.testing.assert_allclose(expected, [[0.25, -2], [-0.05, 0], [1, -2.25]])
    assert ((G <= 0).all(axis=1) == [True, False, False]).all()
    assert G[1, 0] > 0 and G[2, 1] > 0 and G[1, 1] <= 0
    nan = outcomes.margin.copy()
    nan[0, 1, 0] = np.nan                                          # unmeasured: infeasible
    G, _ = evaluate.quota_constraints(evaluate.Outcomes(nan, nan >= 0, np.zeros((3, 3)), nan), np.zeros(2))
    assert G[0, 0] > 0


def test_a_package_breaking_the_energy_quota_is_infeasible_and_left_out_of_every_answer(finished):
    """Energy saving and capacity elimination dropped to 0 (below the floors, as the old study allowed) raise
    energy per industrial VA against the baseline; a package is infeasible exactly where a quota's expected
    margin falls below zero, or below the baseline's where the baseline misses it; and no package in the
    Pareto set or the reachability table breaks a quota."""
    outcome = finished.outcome
    setup = outcome.setup
    baseline_margin = outcome.references["baseline"]["quota_expected"]
    dropped = nxmfg.scenarios.with_changes(setup.references["baseline"], "dropped", "d", levers={
        "energy_saving_investment_share": {"from": 2024, "value": 0.0},
        "backward_capacity_elimination_rate": {"from": 2024, "value": 0.0}})
    figures = nxmfg.optimization.pipeline.figures(setup.evaluator([dropped]), setup,
                                                  outcome.references["baseline"]["state_cost"], baseline_margin)
    margin = figures["quota_expected"][0]
    assert margin[0] < baseline_margin[0]          # energy quota first: dropping both raises energy per VA
    broken = margin < np.minimum(baseline_margin, 0) - 1e-12
    assert ((figures["G"][0, -len(setup.quotas):] > 0) == broken).all()
    archive = outcome.archive
    kept = (archive["G"][:, -len(setup.quotas):] <= 0).all(axis=1)
    assert kept[analysis.pareto_indices(archive)].all()
    reach = analysis.reachability(outcome)
    rows = reach.loc[reach["archive_row"] >= 0, "archive_row"].astype(int)
    assert kept[rows].all()
    assert finished.pareto["keeps_quotas"].all()
    allowed = np.minimum(baseline_margin, 0)
    assert (finished.pareto.filter(like="quota_margin:").to_numpy() >= allowed - 1e-9).all()


def test_an_infeasible_candidate_never_reaches_the_pareto_set():
    """A hand-made archive: the cheapest, best candidate breaks a quota (G > 0) and is left out."""
    archive = {"decoded": np.array([[0.0], [1.0], [2.0]]), "F": np.array([[-5.0, 1, -5], [-2, 5, -2], [-1, 9, -1]]),
               "G": np.array([[-1.0, 0.5], [-1, -0.1], [-1, 0]]), "cost": np.array([1.0, 5, 9]),
               "quota_expected": np.zeros((3, 1))}
    assert 0 not in analysis.pareto_indices(archive)
    assert list(analysis.within_quotas(archive)) == [1, 2]
