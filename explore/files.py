"""Every file the explorer reads or writes, in one place: scenario files given on the command line or
uploaded, a saved scenario's YAML, and the report. Inputs go through the loader every command uses
(model/input_files.py: regular files only, refused by size before they are read); what is written goes
through model/files.py's atomic writes, in a temporary folder removed afterwards.
"""

from __future__ import annotations

import base64
import binascii
import shutil
import tempfile
from pathlib import Path

import yaml

from nxmfg import scenarios
from nxmfg.model.files import write_bytes
from nxmfg.model.input_files import LIMITS

MAX_SCENARIO_BYTES = LIMITS["scenario"]


def read_scenario(path: str | Path) -> scenarios.Scenario:
    """A scenario file given on the command line, checked and read as `nxmfg simulate` reads one."""
    return scenarios.load(Path(path))


def read_upload(filename: str, contents: str) -> scenarios.Scenario:
    """A scenario file uploaded in the browser (dcc.Upload's data URL), checked as `nxmfg simulate` would:
    its `name` must equal its file name."""
    name = Path(filename or "upload.yaml").name
    encoded = (contents or "").partition(",")[2]
    if len(encoded) * 3 // 4 > MAX_SCENARIO_BYTES:
        raise scenarios.ScenarioError(name, "", f"larger than {MAX_SCENARIO_BYTES} bytes; not a scenario file")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise scenarios.ScenarioError(name, "", "the upload could not be read") from None
    folder = Path(tempfile.mkdtemp(prefix="nxmfg-upload-"))
    try:
        write_bytes(folder / name, data)
        scenario = scenarios.load(folder / name)
    except scenarios.ScenarioError as error:      # name the user's file, not our folder
        raise scenarios.ScenarioError(name, error.field, error.problem) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    scenario._source = Path(name)    # errors and the metadata name the user's file, not our folder
    return scenario


def scenario_yaml(scenario: scenarios.Scenario) -> str:
    """The scenario as a file `nxmfg simulate` runs (`name.yaml`)."""
    data = scenario.model_dump(by_alias=True, exclude_none=True)   # python mode: path years stay int keys
    data = {key: data[key] for key in ("name", "title", "description", "final_year", "levers", "paths") if key in data}
    header = ("# Saved by `nxmfg explore`. Run it with: nxmfg simulate "
              f"{scenario.name}.yaml\n")
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def report_html(chosen: list[scenarios.Scenario], lang: str, params: str | Path | None) -> bytes:
    """The report `nxmfg compare` writes for `chosen` (same fit), as bytes; nothing is left on disk."""
    import nxmfg

    folder = Path(tempfile.mkdtemp(prefix="nxmfg-report-"))
    try:
        path = nxmfg.compare(chosen, params=params).write(folder, lang=lang)
        return path.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
