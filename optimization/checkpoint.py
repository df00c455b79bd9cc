"""The search's checkpoint: one file, replaced atomically after every generation.

It holds the study's fingerprint, the pymoo algorithm (population, random generator, generation count)
and the archive, pickled together so they can never disagree. A kill leaves the previous generation's
file (atomic replace), never half of one. Only checkpoints this program wrote in the output folder you
name are read back: unpickling runs code, so never resume from a folder someone else gave you.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from nxmfg.model.files import atomic_path

NAME = "checkpoint.pkl"
FORMAT = 1   # bump when the pickled layout changes: older checkpoints are then refused, not misread


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed; the message names the file and says what to do."""


class Checkpoint:
    """The checkpoint of one study in `folder`.

    fingerprint: what the results depend on (study, model, fit, targets); a checkpoint of another
    fingerprint is refused. resume: read an existing checkpoint; otherwise an old one is removed.
    """

    def __init__(self, folder: Path, fingerprint: str, resume: bool) -> None:
        self.path, self.fingerprint, self.resume = Path(folder) / NAME, fingerprint, resume
        if not resume:
            self.path.unlink(missing_ok=True)

    def load(self):
        """(algorithm, archive) from the checkpoint, or None to start afresh."""
        if not self.resume or not self.path.exists():
            return None
        try:
            with open(self.path, "rb") as handle:
                saved = pickle.load(handle)  # noqa: S301 (our own file; see the module docstring)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError) as error:
            raise CheckpointError(f"{self.path}: unreadable checkpoint ({type(error).__name__}); rerun "
                                  "without --resume") from None
        if not isinstance(saved, dict) or saved.get("format") != FORMAT:
            raise CheckpointError(f"{self.path}: a checkpoint of another version of nxmfg; rerun without --resume")
        if saved["fingerprint"] != self.fingerprint:
            raise CheckpointError(f"{self.path}: the checkpoint belongs to another study, model, fit or targets "
                                  f"(fingerprint {saved['fingerprint']}, not {self.fingerprint}); rerun without "
                                  "--resume or pick another --out")
        return saved["algorithm"], saved["archive"]

    def save(self, algorithm, archive) -> None:
        data = pickle.dumps({"format": FORMAT, "fingerprint": self.fingerprint, "algorithm": algorithm,
                             "archive": archive}, protocol=pickle.HIGHEST_PROTOCOL)
        with atomic_path(self.path) as temporary, open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
