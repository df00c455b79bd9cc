"""docs/quickstart.ipynb runs from top to bottom (nbclient, a fresh kernel) and shows what it says."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[1] / "docs" / "quickstart.ipynb"


def test_the_quickstart_notebook_runs_and_compares_the_changed_scenario(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})        # run where it can write
    client.execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(output.get("output_type") != "error" for cell in code for output in cell.outputs)
    warnings = [output["text"] for cell in code for output in cell.outputs if output.get("name") == "stderr"]
    assert warnings == [], "the quickstart prints no warnings"
    text = "\n".join(str(output.get("data", {}).get("text/plain", "")) for cell in code for output in cell.outputs)
    assert "D-cnc-key-processes" in text and "more_retrofits" in text and "U-mfg-va-2030" in text
    images = [output for cell in code for output in cell.outputs if "image/png" in output.get("data", {})]
    assert len(images) == 2, "the lever's chart and the comparison's"
