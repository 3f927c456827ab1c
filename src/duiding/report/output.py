"""The output folder of a render: what may be written there, and how, so that nothing is lost.

Rules (each refused with one line that says why):
- the folder is not, and does not lie inside, ``evidence/`` or ``grade/``, and does not
  hold them or the source notebooks (``--out .`` at the repository root);
- it is a folder (or can be made one) and can be written;
- a file the render is about to replace was written by an earlier render and has not
  changed since (``.duiding-outputs.json`` records the hash of every file written), so
  an assessor's edited DOCX or anyone else's file is never overwritten, and nothing is
  ever deleted that the render did not create;
- one render at a time per folder (an exclusive lock on ``.duiding-render.lock``);
  temporary folders (``.render-*``) carry an owner file, so the next render can remove
  the ones a killed render left behind.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputError

RECORD = ".duiding-outputs.json"
LOCK = ".duiding-render.lock"
OWNER = ".duiding-owner.json"
TEMP_PREFIX = ".render-"


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_out_dir(out_dir: Path, protected: dict[str, Path]) -> None:
    """Refuse an output folder that would write into, or over, the inputs."""
    for name, folder in protected.items():
        if _inside(out_dir, folder):
            raise InputError([f"--out {out_dir}: lies inside the {name} folder ({folder}); choose another folder"])
        if _inside(folder, out_dir):
            raise InputError([f"--out {out_dir}: holds the {name} folder ({folder}); choose a folder of its own"])
    existing = out_dir
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == out_dir else f"lies below a file ({existing})"
        raise InputError([f"--out {out_dir}: {where}, not a folder"])
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError([f"--out {out_dir}: cannot write in {existing} (permission denied)"])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def written_before(out_dir: Path) -> dict[str, str]:
    """{relative path: hash} of what earlier renders wrote into ``out_dir``."""
    path = out_dir / RECORD
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def check_replaceable(out_dir: Path, names: list[str]) -> None:
    """Every target that exists was written by an earlier render and is unchanged since."""
    record = written_before(out_dir)
    problems = []
    for name in names:
        target = out_dir / name
        if not target.exists() and not target.is_symlink():
            continue
        if target.is_symlink() or not target.is_file():
            problems.append(
                f"{target}: exists and is not a file this render wrote; move it away or choose another --out"
            )
        elif name not in record:
            problems.append(f"{target}: exists but was not written by duiding; move it away or choose another --out")
        elif sha256(target) != record[name]:
            problems.append(f"{target}: changed since duiding wrote it (edited?); save it elsewhere, then render again")
    if problems:
        raise InputError(problems)


@contextmanager
def locked(out_dir: Path, notice) -> Iterator[None]:
    """Hold the folder's render lock; wait (and say so) while another render holds it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            notice(f"waiting for another render into {out_dir} to finish …")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale(out_dir: Path) -> list[Path]:
    """Remove temporary folders of earlier renders into this folder (only with the lock held).

    A folder is removed only when it carries this program's owner file: anything else
    that happens to be named ``.render-*`` is left alone.
    """
    removed = []
    for folder in out_dir.glob(f"{TEMP_PREFIX}*"):
        if folder.is_dir() and not folder.is_symlink() and (folder / OWNER).is_file():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def temp_folder(out_dir: Path) -> Path:
    """A new temporary folder beside the outputs (same filesystem: moves are atomic)."""
    tmp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=out_dir))
    owner = {"program": "duiding render", "pid": os.getpid(), "host": socket.gethostname()}
    (tmp / OWNER).write_text(json.dumps(owner), encoding="utf-8")
    return tmp


def move_into_place(tmp: Path, out_dir: Path, names: list[str]) -> None:
    """Replace the earlier outputs by the new ones, file by file (each move is atomic), and
    record what was written. Only the named files are touched; others stay as they are."""
    record = written_before(out_dir)
    for name in names:
        source, target = tmp / name, out_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        record[name] = sha256(source)
        os.replace(source, target)
    text = json.dumps(dict(sorted(record.items())), indent=1) + "\n"
    (tmp / RECORD).write_text(text, encoding="utf-8")
    os.replace(tmp / RECORD, out_dir / RECORD)
