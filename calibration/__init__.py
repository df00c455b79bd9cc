"""Calibration of the model to Ningxia's historical record."""

from nxmfg.calibration.history import DataError, observations

__all__ = ["DataError", "observations"]
