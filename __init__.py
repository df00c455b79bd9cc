"""nxmfg: a system-dynamics model of Ningxia's manufacturing economy."""
