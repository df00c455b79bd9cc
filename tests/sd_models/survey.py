"""Sort SDXorg's test-models into cases the ensemble engine runs and cases it refuses.

Run on purpose (`python tests/sd_models/survey.py [path to sd-test-models]`) to rewrite
cases.csv; review the diff. Each Vensim case is translated by PySD, checked by the engine's
transform, and the supported ones are run with N = 2 copies against the canonical output.
"""

import csv
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

HERE = Path(__file__).parent
SOURCE = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "sd-test-models"


def survey(case: Path, scratch: Path) -> tuple[str, str]:
    """(status, reason) for one case folder."""
    import pysd

    from nxmfg.model.engine.transform import UnsupportedFeature, transform
    sys.path.insert(0, str(HERE.parent))
    from test_sd_models import assert_matches, canonical, compare_with_canon

    models = sorted(case.glob("*.mdl"))
    if len(models) > 1:  # samples keep variants beside the main model (teacup.mdl, teacup_mdl.mdl)
        models = [m for m in models if m.stem == case.name]
    if len(models) != 1 or not any((case / f).exists() for f in ("output.csv", "output.tab")):
        return "not_vensim", "no single .mdl with canonical output"
    copy = scratch / case.name
    shutil.copytree(case, copy)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            py_file = pysd.read_vensim(copy / models[0].name).py_model_file
    except Exception as error:  # PySD itself cannot translate it: out of scope for us too
        return "untranslatable", f"PySD: {type(error).__name__}: {str(error).splitlines()[0][:120]}"
    try:
        transform(Path(py_file).read_text(encoding="utf-8"), models[0].name)
    except UnsupportedFeature as error:
        return "refused", str(error).split(": ", 2)[-1][:300]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_matches(pysd.load(py_file).run(), canonical(copy), "plain PySD")
    except Exception as error:  # PySD itself does not reproduce the canon: nothing to hold us to
        return "pysd_mismatch", f"{type(error).__name__}: {str(error).strip().splitlines()[0][:200]}"
    try:
        compare_with_canon(py_file)
    except Exception as error:
        return "mismatch", f"{type(error).__name__}: {str(error).strip().splitlines()[0][:200]}"
    return "in_scope", ""


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for folder in ("tests", "samples"):
            for case in sorted(p for p in (SOURCE / folder).iterdir() if p.is_dir()):
                status, reason = survey(case, Path(scratch))
                rows.append({"case": f"{folder}/{case.name}", "status": status, "reason": reason})
                print(f"{folder}/{case.name}: {status} {reason}", flush=True)
    partial = HERE / "cases.csv.tmp"
    with partial.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, ["case", "status", "reason"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    partial.replace(HERE / "cases.csv")


if __name__ == "__main__":
    main()
