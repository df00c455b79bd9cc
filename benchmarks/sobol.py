"""Time the shipped Sobol' study end to end: sensitivity/plan_levers.yaml (N = 4096, second order).

Loads the study against the model, samples, evaluates every run through the ensemble engine,
analyses all outcomes and writes tables, charts and summary.md to OUT (default out/plan_levers).
Target: under 120 s on the project's 2-core machine. Ends with one line `seconds: S`.

    python benchmarks/sobol.py [OUT]
"""

import json
import resource
import sys
import time
from pathlib import Path

from nxmfg import sensitivity

STUDY = Path(__file__).resolve().parents[1] / "sensitivity" / "plan_levers.yaml"


def main(out: Path) -> None:
    started = time.perf_counter()
    tables = sensitivity.run_file(STUDY, out)
    seconds = time.perf_counter() - started
    metadata = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    study = metadata["study"]
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    runs, evaluation = metadata["runs"], metadata["evaluation_seconds"]
    print(f"study: {STUDY.name}, N = {study['samples']}, second order: {study['second_order']}, "
          f"D = {len(metadata['parameters'])}, outcomes: {len(metadata['outcomes'])}, runs: {runs}")
    print(f"evaluation: {evaluation:.1f} s ({runs / evaluation:.0f} runs/s); "
          f"loading, sampling, analysis and charts: {seconds - evaluation:.1f} s")
    print(f"peak RSS (largest process): {peak / 2**20:.2f} GiB; unsettled: {len(tables['unsettled'])}")
    print(f"outputs: {out}")
    print(f"seconds: {seconds:.1f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/plan_levers"))
