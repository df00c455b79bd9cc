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
