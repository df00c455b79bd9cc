"""Evaluate a sample in chunks, each saved atomically, so an interrupted study resumes where it stopped."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nxmfg.model.files import atomic_path, remove_stale

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
        remove_stale(self.folder, depth=1)   # half-written chunks of a killed run
        manifest = self.folder / "manifest.json"
        wanted = {"fingerprint": fingerprint, "rows": rows}
        if resume and manifest.exists():
            try:
                found = json.loads(manifest.read_text(encoding="utf-8"))
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
        """Chunks saved whole. Ours are written atomically, so a damaged one was damaged since (a full
        disk, a copy cut short): it is removed and evaluated again."""
        done = []
        for index in range(len(self.bounds)):
            if self.path(index).exists():
                if self._intact(index):
                    done.append(index)
                else:
                    self.path(index).unlink()
        return done

    def _intact(self, index: int) -> bool:
        start, stop = self.bounds[index]
        try:
            with np.load(self.path(index)) as chunk:
                return len(chunk["outcomes"]) == stop - start
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return False


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
