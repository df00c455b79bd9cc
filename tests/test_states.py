"""One definition of the states of the world, the record at the seam, and the same odds on every surface
(issue 21)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import nxmfg
from nxmfg import model, scenarios
from nxmfg.api import inputs
from nxmfg.calibration import priors, seam, states, worlds
from nxmfg.model import indicators

CONTROL = {"final_time": 2027, "saveper": 1}


def test_the_states_come_from_one_seed_and_are_the_same_on_every_call(fit):
    one, two = states.draw(fit, count=8), states.draw(fit, count=8, seed=states.settings().seed)
    pd.testing.assert_frame_equal(one.table(), two.table())
    other = states.draw(fit, count=8, seed=states.settings().seed + 1)
    assert not one.table().equals(other.table())
    assert states.draw(fit).count == states.settings().count == 256


def test_every_state_draws_the_fit_the_assumptions_and_the_outlooks(few):
    assumed = priors.load().assumed
    assert few.parts == ("fit", "assumptions", "outlooks")
    assert set(assumed) <= set(few.constants)
    table = few.table()
    varying = [name for name in assumed if table[name].nunique() > 1]
    assert len(varying) == len(assumed)                        # a Latin hypercube moves every coordinate
    for name in few.settings.outlooks:
        assert table.filter(like=f"{name}.").nunique().item() == few.count


def test_a_point_of_the_unit_cube_maps_to_each_priors_quantile_and_a_row_of_the_fits_draws(fit):
    sets, prior = fit.parameter_sets(), priors.load()
    u = np.array([[0.25]])
    mapped = states.from_unit(sets, {"fit": u, "assumptions": np.full((1, len(prior.assumed)), 0.25),
                                     "outlooks": np.full((1, 3), 0.25)}, prior)
    assert mapped.fit_rows[0] == int(0.25 * len(sets))
    expected = prior.ppf(prior.assumed, np.full((1, len(prior.assumed)), 0.25))[0]
    np.testing.assert_allclose([mapped.constants[n][0] for n in prior.assumed], expected)
    growth = states.settings().outlooks["national_growth"].draw
    assert mapped.outlooks["national_growth"][0] == pytest.approx(float(growth.ppf(np.array([0.25]))[0]))


def test_a_label_names_the_number_of_states_what_they_draw_and_the_screening_in_both_languages(few):
    passed, drawn = few.screened
    share = f"{100 * passed / drawn:.0f} %"
    assert few.label("en") == ("P(met) over 8 states: fit posterior, assumptions, outlooks; those passing the "
                               f"reality checks ({share} of {drawn} drawn)")
    assert few.label("zh") == ("达成概率基于 8 个世界状态：拟合后验、假设参数、外部展望；"
                               f"仅保留通过现实性检验者（抽取 {drawn} 个，通过 {share}）")


def test_the_states_are_the_first_candidates_in_draw_order_whose_baseline_passes_the_reality_checks(fit, few):
    """calibration/plausible.py: the hypercube the unscreened draw made, screened, in its own order."""
    from nxmfg.calibration import plausible

    candidates = states.latin_hypercube(fit.parameter_sets(), states.assumed_priors(), plausible.BATCH * 8,
                                        states.settings().seed, states.settings())
    ok = plausible.screen(fit, candidates)
    assert 0 < ok.sum() < len(ok)                      # the checks keep some candidates and not others
    pd.testing.assert_frame_equal(few.table(), candidates.take(np.flatnonzero(ok)[:8]).table())
    assert few.screened == (int(ok.sum()), len(ok))


def test_the_screenings_effect_on_the_odds_is_read_over_the_candidates_the_states_are_kept_from(fit, few):
    """`python -m nxmfg.calibration.plausible` (the README's screened and unscreened odds): its candidates
    and the ones it finds passing are those the states were kept from, on every surface's run."""
    from nxmfg.calibration import plausible

    effect = plausible.screening_effect(fit, count=8)
    assert (effect.attrs["passing"], effect.attrs["drawn"]) == few.screened
    modelled = [row.id for row in scenarios.load_targets() if row.year == 2027 and row.kind == "modelled"]
    assert list(effect.index) == modelled and effect.notna().all().all()
    assert ((effect >= 0) & (effect <= 100)).all().all()


def test_states_no_candidate_can_pass_give_one_line_naming_the_checks(fit, monkeypatch):
    from nxmfg.calibration import plausible, reality
    from nxmfg.scenarios.validation import ScenarioError

    impossible = priors.load().reality_checks["industry_below_45_pct_of_gdp"].model_copy(update={"range": [0, 1]})
    monkeypatch.setattr(plausible, "_checks", lambda: {"impossible": impossible})
    monkeypatch.setattr(plausible, "ROUNDS", 2)
    candidates = states.latin_hypercube(fit.parameter_sets(), states.assumed_priors(), 4, 1, states.settings())
    assert not plausible.screen(fit, candidates).any()
    assert reality.last_year({"impossible": impossible}) == 2035
    with pytest.raises(ScenarioError, match="0 of 16 states of the world pass the reality checks"):
        plausible.states(fit, fit.parameter_sets(), states.assumed_priors(), 2, 1, states.settings())


def test_an_outlook_draw_leaves_the_years_of_its_drivers_record_alone():
    """China's 2024 industrial inflation is recorded (the .mdl's table): a draw moves the table from 2024 on."""
    spec = states.settings().outlooks["national_industry_inflation"]
    table = model.outlook_tables()["national_industry_inflation_outlook"]
    moved = spec.applied(table, np.array([0.02]))[0]
    grid = spec.grid(table)
    np.testing.assert_allclose(moved[grid < 2024], np.interp(grid[grid < 2024], table.index, table.to_numpy()))
    np.testing.assert_allclose(moved[grid >= 2024], np.interp(grid[grid >= 2024], table.index, table.to_numpy()) + 0.02)


def test_chinas_nominal_output_in_2024_is_the_record():
    """The drivers follow their own record: China's industry and the rest of GDP at current prices in 2024 as
    the data print them (national_industry_va_100m_yuan, national_gdp_nominal_100m_yuan), to 0.1 %."""
    run = model.simulate(final_year=2025)
    industry = (run["national_industry_index"] * run["national_industry_price_level"]).sel(year=[2023, 2024])
    rest = (run["national_nonindustry_real"] * run["national_nonindustry_price_level"]).sel(year=[2023, 2024])
    assert float(industry[1] / industry[0]) == pytest.approx(405442.1 / 392183, rel=1e-3)
    assert float(rest[1] / rest[0]) == pytest.approx((1349083.5 - 405442.1) / (1294271.7 - 392183), rel=1e-3)


def test_every_state_starts_its_outlook_from_the_recorded_state_of_2023(fit, few):
    """The pinned indicators equal the record in 2023 in the central run and every state; the years before
    are the model's own, as without the update."""
    untouched = scenarios.from_mapping({"name": "u", "description": "x"}, "<u>")
    params = worlds.inputs(untouched, fit, few)
    start = seam.reconciled(params, few.count + 1, CONTROL, inputs.history())
    names = [pin.indicator for pin in seam.pins()]
    reconciled = model.ensemble.run_translated(model.translated(), params, few.count + 1, control=CONTROL,
                                               resume=start.snapshot,
                                               reduce=lambda runs: indicators.compute(runs, names=names))
    for indicator, value in seam.recorded(inputs.history()).items():
        np.testing.assert_allclose(reconciled[indicator].sel(year=2023), value, rtol=1e-9, err_msg=indicator)
    plain = model.ensemble.run_translated(model.translated(), params, few.count + 1, control=CONTROL, workers=1,
                                          progress=False, reduce=lambda runs: indicators.compute(runs, names=names))
    for indicator in names:
        np.testing.assert_array_equal(reconciled[indicator].sel(year=slice(2010, 2022)),
                                      plain[indicator].sel(year=slice(2010, 2022)))
    assert set(start.factors) == {pin.stock for pin in seam.pins()}


def test_a_counterfactual_of_the_past_starts_from_no_record():
    early = scenarios.from_mapping({"name": "early", "description": "x",
                                    "levers": {"key_projects_per_year": {"from": 2021, "value": 200}}}, "<e>")
    late = scenarios.from_mapping({"name": "late", "description": "x",
                                   "levers": {"key_projects_per_year": {"from": 2024, "value": 200}}}, "<l>")
    assert not seam.applies(early) and seam.applies(late)


@pytest.fixture(scope="module")
def plan_odds(tmp_path_factory):
    """The plan's P(met) of D's targets on three surfaces: simulate, the explorer, optimize."""
    from nxmfg.api.optimization import prepare
    from nxmfg.explore.evaluation import Explorer

    simulated = nxmfg.run("plan").attainment.set_index("id")
    explorer = Explorer()
    plan = explorer.shipped("plan")
    draft = {"levers": {k: v.model_dump(exclude_none=True, by_alias=True) for k, v in plan.levers.items()}}
    explored = explorer.evaluate(draft).verdicts.set_index("id")
    from nxmfg.optimization import study as optimisation

    study = yaml.safe_load(Path(optimisation.__file__).with_name("packages_2027.yaml").read_text("utf-8"))
    path = tmp_path_factory.mktemp("study") / "odds.yaml"
    path.write_text(yaml.safe_dump(study | {"name": "odds", "population": 4, "generations": 1}, allow_unicode=True),
                    encoding="utf-8")
    setup = prepare(path)
    optimised = pd.Series(setup.evaluator([setup.references["plan"]]).probability[0][:len(setup.targets)],
                          index=[t.id for t in setup.targets])
    return simulated, explored, optimised, (simulated["p_met_over"].iloc[0], explorer.states.label("en"),
                                            setup.states.label("en"))


def test_simulate_the_explorer_and_optimize_give_the_plan_the_same_odds(plan_odds):
    """Within Monte Carlo error (two binomial standard errors of a difference, 256 states each): they share
    one draw of the states, so they should agree exactly."""
    simulated, explored, optimised, labels = plan_odds
    ids = list(optimised.index)
    p = simulated.loc[ids, "p_met"].to_numpy(float)
    bound = 2 * np.sqrt(2 * np.maximum(p * (1 - p), 1 / 256) / 256)
    assert (np.abs(explored.loc[ids, "probability"].to_numpy(float) - p) <= bound).all()
    assert (np.abs(optimised.to_numpy(float) - p) <= bound).all()
    assert 0 < p.sum() < len(ids)                                   # odds between none and all


def test_every_surface_names_what_its_odds_are_over(plan_odds):
    *_, labels = plan_odds
    assert len(set(labels)) == 1
    from nxmfg.calibration.fits import shipped_fit

    passed, drawn = states.draw(shipped_fit()).screened
    assert labels[0] == ("P(met) over 256 states: fit posterior, assumptions, outlooks; those passing the "
                         f"reality checks ({100 * passed / drawn:.0f} % of {drawn} drawn)")


def test_the_growth_gap_target_reads_2023_from_the_record(plan_odds):
    """D's 1 pp gap of above-scale industry over GDP growth, 2023-2027: 2023 is observed (12.4 % against 6.6 %)."""
    simulated, *_ = plan_odds
    row = simulated.loc["D-above-scale-industry-growth-over-gdp"]
    assert row["record_years"] == "2023"
    run = nxmfg.run("plan")
    model_years = run.indicators["above_scale_industry_minus_gdp_growth_pp"].sel(year=slice(2024, 2027))
    assert row["value"] == pytest.approx((12.4 - 6.6 + float(model_years.sum())) / 5)


def test_the_shipped_shares_cover_ds_targets_and_flag_those_the_assumptions_decide():
    from nxmfg.calibration import verdict_shares

    shares = verdict_shares.assumption_shares()
    ahead = [t.id for t in scenarios.load_targets() if t.doc == "D" and t.kind == "modelled"]
    assert sorted(shares.index) == sorted([*ahead, "CP-co2-intensity"])    # D's CO2 clause: the climate plan's row
    assert shares["decided_by_assumptions"].equals(shares["assumptions"] > 0.5)


def test_a_grouped_studys_indices_become_the_shares_every_surface_reads(tmp_path):
    import json

    from nxmfg.calibration import verdict_shares
    from nxmfg.sensitivity import shares

    rows = [{"outcome": f"target:D-{name}", "parameter": group, "S1": 0.0, "S1_conf": 0.0, "ST": st, "ST_conf": 0.01}
            for name, values in {"a": (0.1, 0.7, 0.1, 0.2), "b": (0.1, 0.3, 0.2, 0.5)}.items()
            for group, st in zip(shares.GROUPS, values, strict=True)]
    pd.DataFrame(rows).to_csv(tmp_path / "indices.csv", index=False)
    (tmp_path / "metadata.json").write_text(json.dumps({"study": {"name": "toy"}, "samples": 8, "runs": 48,
                                                        "seed": 1, "fingerprint": "x", "model_version": "y"}))
    written = shares.write(tmp_path, tmp_path / "shares.csv")
    read = verdict_shares.assumption_shares(written)
    assert read["decided_by_assumptions"].to_dict() == {"D-a": True, "D-b": False}
    assert read.at["D-b", "levers"] == pytest.approx(0.5)
    pd.DataFrame(rows[:2]).to_csv(tmp_path / "indices.csv", index=False)
    with pytest.raises(ValueError, match="no factor 'levers'"):
        shares.table(tmp_path)
