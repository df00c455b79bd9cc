"""Session fixtures: the loaded model and the baseline run, shared by every test module."""

import pytest

from nxmfg import model
from nxmfg.model import indicators


@pytest.fixture(scope="session")
def economy():
    """The translated PySD model (translation is cached by the .mdl's hash)."""
    return model.load()


@pytest.fixture(scope="session")
def baseline_run(economy):
    """The calibrated baseline, every model variable by year, 2010-2035."""
    return model.simulate(economy=economy)


@pytest.fixture(scope="session")
def baseline_indicators(baseline_run):
    return indicators.compute(baseline_run)


@pytest.fixture(scope="session")
def fit():
    """The shipped fit (calibration/fits.py)."""
    from nxmfg.calibration.fits import shipped_fit

    return shipped_fit()


@pytest.fixture(scope="session")
def few(fit):
    """Eight states of the world of the shipped fit: enough to see every group vary, quick to run."""
    from nxmfg.calibration import states

    return states.draw(fit, count=8)


@pytest.fixture
def small_priors(tmp_path, monkeypatch):
    """The shipped priors cut to two fitted constants and one assumed, with a tiny mode search and sampler, in
    place of calibration/priors.yaml for the test: a fast stand-in for `nxmfg calibrate`."""
    from pathlib import Path

    import yaml

    from nxmfg.calibration import priors

    spec = yaml.safe_load(Path(priors.PRIORS).read_text(encoding="utf-8"))
    keep = ("nonindustry_elasticity", "market_elasticity", "capital_elasticity")
    spec |= {"parameters": {name: spec["parameters"][name] for name in keep}, "on_bound": {}, "reality_checks": {},
             "search": {"popsize": 4, "maxiter": 2, "polish_iterations": 2},
             "sampler": {"walkers": 8, "max_steps": 6, "check_every": 3, "converged_taus": 50, "tau_tolerance": 0.05,
                         "retained": 40}}
    path = tmp_path / "small_priors.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(priors, "PRIORS", path)
    return path
