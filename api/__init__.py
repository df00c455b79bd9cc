"""The Python API behind `import nxmfg`."""
