"""``duiding render``: validate, execute the notebooks, assemble the draft standpunt.

Order of work, so that a failure never leaves a half-written report and nothing is lost:
(1) validate every input: the evidence base, every judgements file, every notebook
parameter, the previous manifest and the output folder (:mod:`.output`); (2) take the
folder's lock and execute the notebooks with papermill into a temporary folder beside the
output (in parallel); (3) assemble ``standpunt.html`` (self-contained),
``standpunt.docx`` and ``manifest.json`` there; (4) only then move the new files into
place, file by file. ``evidence/`` and ``grade/`` are only read. On SIGTERM the temporary
folder is removed before the process ends; after SIGKILL the next render removes it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..errors import InputError, RenderError
from ..evidence import POPULATIONS, EvidenceBase, load_evidence, load_plan, save_validated, summary
from ..grade import Judgements, load_judgements
from . import blocks as b
from .appendix import evidence_section
from .changes import changes_blocks, compare
from .chapters import (
    background_blocks,
    colofon_blocks,
    conclusion_chapter,
    discussion_blocks,
    introduction_blocks,
    literature_blocks,
    summary_blocks,
)
from .docx import write_docx
from .front import BANNER, reproducibility_blocks
from .html import page
from .manifest import load_manifest, manifest
from .method import method_blocks
from .notebook import check_parameters
from .output import check_out_dir, check_replaceable, locked, move_into_place, remove_stale, temp_folder
from .text import date_nl

TITLE = "Standpunt fysiotherapie en oefentherapie bij lage rugklachten en uitstralende pijn in het been"
DOCX_SUBTITLE = "Conceptstandpunt — fysiotherapie en oefentherapie bij lage rugpijn en beenpijn"
NOTEBOOKS = POPULATIONS


def notebooks_dir() -> Path:
    env = os.environ.get("DUIDING_NOTEBOOKS")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[3] / "notebooks"


def outputs() -> list[str]:
    """Every file a render writes into the output folder (relative paths)."""
    return ["standpunt.html", "standpunt.docx", "manifest.json", *[f"notebooks/{n}.ipynb" for n in NOTEBOOKS]]


def render(
    evidence: str | Path = "evidence",
    grade: str | Path = "grade",
    out: str | Path = "reports",
    method: str | None = None,
    test: str | None = None,
    jobs: int = 3,
    progress: bool = True,
    previous: str | Path | None = None,
) -> dict[str, Any]:
    """Render the draft standpunt; returns paths and timings. Raises InputError before
    writing anything when an input, a parameter or the output folder is wrong."""
    start = time.perf_counter()
    evidence_dir, grade_dir, out_dir = Path(evidence).resolve(), Path(grade).resolve(), Path(out).resolve()
    model = load_plan().model
    method, test = method or model["method"], test or model["test"]
    nb_dir = notebooks_dir()
    check_parameters(method=method, test=test, evidence_dir=str(evidence_dir), grade_dir=str(grade_dir), jobs=jobs)
    check_out_dir(out_dir, {"evidence": evidence_dir, "grade": grade_dir, "notebooks": nb_dir})
    ev = load_evidence(evidence_dir)
    judgements = {p: load_judgements(grade_dir, p) for p in POPULATIONS}
    old_manifest = load_manifest(previous) if previous else None
    if not (nb_dir / "population.ipynb").is_file():
        raise InputError([f"{nb_dir / 'population.ipynb'}: notebook not found"])
    runs = []
    for p in POPULATIONS:
        params = {"population": p, "method": method, "test": test, "evidence_dir": str(evidence_dir)}
        runs.append(("population.ipynb", p, {**params, "grade_dir": str(grade_dir)}))
    with locked(out_dir, _notice):
        check_replaceable(out_dir, outputs())
        for folder in remove_stale(out_dir):
            _notice(f"removed {folder.name}, left behind by an interrupted render")
        tmp = temp_folder(out_dir)
        try:
            with _cleanup_on_sigterm(tmp):
                cache = tmp / "evidence.pickle"
                save_validated(ev, cache)
                for _, _, params in runs:
                    params["evidence_cache"] = str(cache)
                # the evidence appendices need no analysis: built here while the kernels run
                with ThreadPoolExecutor(max_workers=1) as side:
                    appendix = side.submit(evidence_section, ev)
                    timings = _run_notebooks(nb_dir, tmp, runs, jobs, progress)
                    appendix_blocks = appendix.result()
                params = {"method": method, "test": test, "evidence": str(evidence_dir), "grade": str(grade_dir)}
                man = manifest(ev, [j.path for j in judgements.values()], params)
                man["notebook_seconds"] = timings
                man["results"] = {p: _read_json(tmp / "sections" / f"{p}.summary.json") for p in POPULATIONS}
                sections = {n: b.from_json(_read_json(tmp / "sections" / f"{n}.json")) for n in NOTEBOOKS}
                sections["evidence"] = appendix_blocks
                changes = changes_blocks(compare(old_manifest, man), str(previous)) if old_manifest else []
                blocks = assemble(ev, judgements, sections, man, method, test, changes)
                (tmp / "standpunt.html").write_text(page(blocks, toc(blocks), TITLE, subtitle(man)), encoding="utf-8")
                write_docx(blocks, str(tmp / "standpunt.docx"), TITLE, **docx_front(man))
                (tmp / "manifest.json").write_text(json.dumps(man, indent=1, ensure_ascii=False) + "\n", "utf-8")
                move_into_place(tmp, out_dir, outputs())
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return {
        "html": out_dir / "standpunt.html",
        "docx": out_dir / "standpunt.docx",
        "manifest": out_dir / "manifest.json",
        "seconds": time.perf_counter() - start,
    }


def _notice(line: str) -> None:
    """What the user should know even with --quiet: a wait for the lock, leftovers removed."""
    print(f"duiding render: {line}", file=sys.stderr)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


class _cleanup_on_sigterm:
    """While rendering, SIGTERM removes the temporary folder and ends the process (143)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp

    def __enter__(self) -> None:
        self.saved = None
        self.stderr = os.dup(2)  # the user's stderr: fd 2 goes to the kernels' log meanwhile
        try:
            self.saved = signal.signal(signal.SIGTERM, self._handle)
        except ValueError:  # not the main thread: nothing to install
            self.saved = None

    def _handle(self, signum: int, frame: object) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        os.write(self.stderr, b"duiding render: stopped (SIGTERM); the previous report is unchanged\n")
        os._exit(128 + signum)  # kernels notice their parent is gone and stop

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            signal.signal(signal.SIGTERM, self.saved)
        os.close(self.stderr)


def _execute(notebook: Path, output: Path, parameters: dict[str, Any]) -> None:
    import papermill as pm

    # No cwd=: papermill implements it with a process-wide chdir, which races between the
    # threads that run notebooks in parallel. Every path passed in is absolute.
    pm.execute_notebook(
        str(notebook),
        str(output),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,  # written once at the end (and on failure)
    )


def _run_notebooks(nb_dir: Path, tmp: Path, runs, jobs: int, progress: bool) -> dict[str, float]:
    import papermill as pm
    from rich.progress import Progress

    timings: dict[str, float] = {}
    (tmp / "notebooks").mkdir()
    sections = tmp / "sections"

    def one(run) -> str:
        notebook, name, params = run
        t0 = time.perf_counter()
        try:
            _execute(nb_dir / notebook, tmp / "notebooks" / f"{name}.ipynb", {**params, "output_dir": str(sections)})
        except pm.PapermillExecutionError as exc:
            message = f"notebook {notebook} ({name}) failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
            raise RenderError(message) from None
        timings[name] = round(time.perf_counter() - t0, 2)
        return name

    with _kernel_stderr_to(tmp / "kernels.log"), Progress(disable=not progress, transient=False) as bar:
        task = bar.add_task("notebooks", total=len(runs))
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for name in pool.map(one, runs):
                bar.update(task, advance=1, description=f"notebook {name} done")
    return timings


class _kernel_stderr_to:
    """Send the kernels' own stderr chatter (they inherit ours) to a log file while they run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        sys.stderr.flush()
        self.saved = os.dup(2)
        self.log = open(self.path, "w")
        os.dup2(self.log.fileno(), 2)

    def __exit__(self, *exc: object) -> None:
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.log.close()


def subtitle(man: dict[str, Any]) -> str:
    commit = man["git_commit"] or "onbekend"
    made = f"Conceptrapport, gegenereerd op {man['rendered_at']} uit git-commit {commit}."
    return f"{made} Alle getallen komen uit de berekeningen."


def docx_front(man: dict[str, Any]) -> dict[str, str]:
    """The DOCX title page's subtitle, version and date: from the code and the commit of
    the inputs, not from the time of rendering, so an equal input gives an equal file."""
    commit = (man["git_commit"] or "")[:7] or "onbekend"
    version = f"duiding {man['versions'].get('duiding') or 'onbekend'}, git-commit {commit}"
    date = date_nl(man.get("commit_date")) or "onbekend"
    return {"subtitle": DOCX_SUBTITLE, "version": version, "date": f"{date} (datum van de invoer)"}


def toc(blocks: list[b.Block]) -> list[tuple[str, str]]:
    return [(x.anchor, x.text) for x in blocks if isinstance(x, b.Heading) and x.level == 2 and x.anchor]


def assemble(
    ev: EvidenceBase,
    judgements: dict[str, Judgements],
    sections: dict[str, list[b.Block]],
    man: dict[str, Any],
    method: str,
    test: str,
    changes: list[b.Block],
) -> list[b.Block]:
    counts = summary(ev)["populations"]
    results = man["results"]
    blocks: list[b.Block] = [b.Paragraph(BANNER, "banner")]
    blocks += summary_blocks(results)
    blocks += changes
    blocks += introduction_blocks(counts)
    blocks += background_blocks()
    blocks += method_blocks(counts, judgements, method, test)
    for p in POPULATIONS:
        blocks += sections[p]
    blocks += discussion_blocks(ev, counts, results)
    blocks += conclusion_chapter(results)
    blocks += literature_blocks(ev)
    blocks += sections["evidence"]
    blocks += reproducibility_blocks(man)
    blocks += colofon_blocks(man, man["versions"].get("duiding") or "onbekend")
    return blocks
