"""The search's checkpoint: one file of plain arrays and JSON, replaced atomically after every generation.

It holds the study's fingerprint, the search state (search.py turns the pymoo algorithm into arrays and
back: population, random generator, generation count) and the archive, in one signed .npz
(model/signed.py) so that they can never disagree. Nothing in it can run code, and it is used only if
this user wrote it: a checkpoint planted in --out, or in a folder someone handed you, is refused in one
line. A kill leaves the previous generation's file (atomic replace), never half of one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nxmfg.model import signed

NAME = "checkpoint.npz"
FORMAT = 2   # bump when the layout changes: older checkpoints are then refused, not misread


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed; the message names the file and says what to do."""


def remove_ours(folder: Path) -> None:
    """Remove the checkpoint in `folder` if we wrote it; one we did not write is left alone."""
    path = Path(folder) / NAME
    if path.exists():
        try:
            signed.load(path, "checkpoint")
        except signed.UnsignedError:
            return
        path.unlink(missing_ok=True)


class Checkpoint:
    """The checkpoint of one study in `folder`.

    fingerprint: what the results depend on (study, model, fit, targets); a checkpoint of another
    fingerprint is refused. resume: read an existing checkpoint; otherwise an old one of ours is removed.
    """

    def __init__(self, folder: Path, fingerprint: str, resume: bool) -> None:
        self.path, self.fingerprint, self.resume = Path(folder) / NAME, fingerprint, resume
        if not resume:
            remove_ours(folder)

    def load(self) -> tuple[dict, dict[str, np.ndarray]] | None:
        """(meta, arrays) of the checkpoint, or None to start afresh; refused unless ours and of this study."""
        if not self.resume or not self.path.exists():
            return None
        try:
            meta, arrays = signed.load(self.path, "checkpoint")
        except signed.UnsignedError as error:
            raise CheckpointError(f"{error}; rerun without --resume") from None
        if meta.get("format") != FORMAT:
            raise CheckpointError(f"{self.path}: a checkpoint of another version of nxmfg; rerun without --resume")
        if meta.get("fingerprint") != self.fingerprint:
            raise CheckpointError(f"{self.path}: the checkpoint belongs to another study, model, fit or targets "
                                  f"(fingerprint {meta.get('fingerprint')}, not {self.fingerprint}); rerun without "
                                  "--resume or pick another --out")
        return meta, arrays

    def save(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Replace the checkpoint with `meta` (JSON) and `arrays` (numbers), signed."""
        signed.save(self.path, {"format": FORMAT, "fingerprint": self.fingerprint} | meta, arrays)
