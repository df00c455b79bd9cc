"""Evaluate a sample in chunks, each saved atomically, so an interrupted study resumes where it stopped."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nxmfg.model.files import atomic_path

Evaluation = dict[str, np.ndarray]
"""Arrays with one leading row per sample row: `outcomes` (rows, K), optionally `met` (rows, K) and
`series` (rows, S, T)."""


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez, atomically (a crash or Ctrl-C leaves the old file or none, never half a file)."""
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez(handle, **arrays)
        handle.flush()
        os.fsync(handle.fileno())


class ChunkStore:
    """Finished chunks of one study in `folder`, with a manifest tying them to the study's fingerprint."""

    def __init__(self, folder: Path, fingerprint: str, rows: int, chunk_rows: int, resume: bool) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = self.folder / "manifest.json"
        wanted = {"fingerprint": fingerprint, "rows": rows}
        if resume and manifest.exists():
            found = json.loads(manifest.read_text())
            if {k: found.get(k) for k in wanted} != wanted:
                raise ValueError(f"{self.folder}: the saved chunks belong to another study or sample "
                                 f"(fingerprint {found.get('fingerprint')}, not {fingerprint}); "
                                 "rerun without --resume or pick another --out")
            chunk_rows = found["chunk_rows"]          # the chunk layout must not change mid-study
        else:
            for old in self.folder.glob("chunk_*.npz"):
                old.unlink()
            with atomic_path(manifest) as temporary:
                temporary.write_text(json.dumps(wanted | {"chunk_rows": chunk_rows}, indent=1))
        self.rows, self.chunk_rows = rows, chunk_rows

    @property
    def bounds(self) -> list[tuple[int, int]]:
        starts = range(0, self.rows, self.chunk_rows)
        return [(start, min(start + self.chunk_rows, self.rows)) for start in starts]

    def path(self, index: int) -> Path:
        return self.folder / f"chunk_{index:05d}.npz"

    def finished(self) -> list[int]:
        return [i for i in range(len(self.bounds)) if self.path(i).exists()]


def _as_evaluation(result: np.ndarray | Evaluation, rows: int) -> Evaluation:
    """An evaluator may return a bare array of outcomes, (rows,) or (rows, K)."""
    if not isinstance(result, dict):
        result = {"outcomes": np.asarray(result, dtype=float).reshape(rows, -1)}
    for key, array in result.items():
        if len(array) != rows:
            raise ValueError(f"evaluator returned {len(array)} rows of {key!r} for {rows} sample rows")
    return result


def evaluate_in_chunks(X: np.ndarray, evaluate: Callable[[np.ndarray], np.ndarray | Evaluation],
                       store: ChunkStore, progress: bool = True) -> Evaluation:
    """Evaluate the rows of X chunk by chunk, skipping chunks already saved; return all rows.

    The result is always read back from the saved chunks, so a resumed study and an uninterrupted
    one go through the same path and give identical arrays.
    """
    done = set(store.finished())
    initial = sum(stop - start for i, (start, stop) in enumerate(store.bounds) if i in done)
    with tqdm(total=len(X), initial=initial, unit="run", desc="evaluating", disable=not progress,
              dynamic_ncols=True) as bar:
        for index, (start, stop) in enumerate(store.bounds):
            if index in done:
                continue
            save_npz(store.path(index), _as_evaluation(evaluate(X[start:stop]), stop - start))
            bar.update(stop - start)
    parts = []
    for index in range(len(store.bounds)):
        with np.load(store.path(index)) as chunk:
            parts.append({key: chunk[key] for key in chunk.files})
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
