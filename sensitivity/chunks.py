"""Evaluate a sample in chunks, each saved atomically, so an interrupted study resumes where it stopped.

A chunk is a signed .npz (model/signed.py) that names its study's fingerprint and rows: only chunks this
user wrote for this study are resumed from; any other file of a chunk's name is evaluated again and
replaced, and never removed otherwise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nxmfg.model import signed
from nxmfg.model.files import atomic_path, remove_stale
from nxmfg.model.input_files import read_text

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
    """Finished chunks of one study in `folder`, with a manifest of the chunk layout."""

    def __init__(self, folder: Path, fingerprint: str, rows: int, chunk_rows: int, resume: bool) -> None:
        self.folder, self.fingerprint = Path(folder), fingerprint
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale(self.folder, depth=1)   # half-written chunks of a killed run
        manifest = self.folder / "manifest.json"
        wanted = {"fingerprint": fingerprint, "rows": rows}
        if resume and manifest.exists():
            try:
                found = json.loads(read_text(manifest, "manifest"))
                chunk_rows = int(found["chunk_rows"])
                if chunk_rows < 1:
                    raise ValueError(f"chunk_rows {chunk_rows} < 1")
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{manifest}: unreadable ({error}); rerun without --resume") from None
            if {k: found.get(k) for k in wanted} != wanted:
                raise ValueError(f"{self.folder}: the saved chunks belong to another study or sample "
                                 f"(fingerprint {found.get('fingerprint')}, not {fingerprint}); "
                                 "rerun without --resume or pick another --out")
            # the chunk layout (chunk_rows, read above) must not change mid-study
        else:
            for old in self.folder.glob("chunk_*.npz"):
                if self._ours(old) is not None:    # a file we did not write is replaced, never removed
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

    def save(self, index: int, evaluation: Evaluation) -> None:
        start, stop = self.bounds[index]
        signed.save(self.path(index), {"fingerprint": self.fingerprint, "start": start, "stop": stop}, evaluation)

    def read(self, index: int) -> Evaluation | None:
        """Chunk `index` if this user saved it for this study and these rows, else None."""
        found = self._ours(self.path(index))
        start, stop = self.bounds[index]
        if found is None or found[0] != {"fingerprint": self.fingerprint, "start": start, "stop": stop}:
            return None
        return found[1] if all(len(value) == stop - start for value in found[1].values()) else None

    def finished(self) -> list[int]:
        """Chunks saved whole, by us, for this study. A damaged one (a full disk, a copy cut short) or one
        we did not write is evaluated again, and its file replaced."""
        return [index for index in range(len(self.bounds)) if self.read(index) is not None]

    @staticmethod
    def _ours(path: Path) -> tuple[dict, Evaluation] | None:
        try:
            return signed.load(path, "chunk")
        except signed.UnsignedError:
            return None


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
            store.save(index, _as_evaluation(evaluate(X[start:stop]), stop - start))
            bar.update(stop - start)
    parts = [store.read(index) for index in range(len(store.bounds))]
    if any(part is None for part in parts):      # changed since we wrote it
        raise ValueError(f"{store.folder}: a chunk changed while the study ran; run it again")
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
