"""A validated evidence base handed from ``duiding render`` to the notebooks it runs.

The render validates the evidence once; each notebook it executes then loads the same
object instead of reading and validating every file again. The hand-off records the hash
of every input file: a notebook uses it only if the files are still byte-identical, and
otherwise loads (and validates) the folder itself. The file is written into the render's
own temporary folder, never into ``evidence/``.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from .base import EvidenceBase
from .load import load_evidence


def fingerprint(ev: EvidenceBase) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in ev.files() if p.is_file()}


def save_validated(ev: EvidenceBase, path: Path) -> None:
    with open(path, "wb") as handle:
        pickle.dump({"files": fingerprint(ev), "evidence": ev}, handle, protocol=pickle.HIGHEST_PROTOCOL)


def load_validated(root: str | Path, cache: str | Path | None = None) -> EvidenceBase:
    """The evidence base at ``root``: from the render's hand-off if it still matches the
    files, else read and validated from the folder."""
    if cache and Path(cache).is_file():
        with open(cache, "rb") as handle:
            saved = pickle.load(handle)
        ev = saved["evidence"]
        if Path(ev.root).resolve() == Path(root).resolve() and fingerprint(ev) == saved["files"]:
            return ev
    return load_evidence(root)
