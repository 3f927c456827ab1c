"""``duiding render``: validate, execute the notebooks, assemble the draft standpunt.

Order of work, so that a failure never leaves a half-written report: (1) validate the
evidence base, every judgements file and every notebook parameter; (2) execute the
notebooks with papermill into a temporary folder next to the output (in parallel);
(3) assemble ``standpunt.html`` (self-contained), ``standpunt.docx`` and
``manifest.json`` there; (4) only then move the results into place. ``evidence/`` and
``grade/`` are only read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import jinja2

from . import __version__
from . import blocks as b
from .changes import changes_blocks, compare, load_manifest
from .config import load_config
from .errors import RenderError
from .evidence import load_evidence, summary
from .evidence_schema import POPULATIONS
from .formatting import g_nl, nl
from .judgements import load_judgements
from .notebook import validate_parameters
from .sections import COMPARATORS_NL, POPULATION_LABELS

TITLE = "Standpunt fysiotherapie en oefentherapie bij lage rugklachten en uitstralende pijn in het been"
OUTPUTS = ("standpunt.html", "standpunt.docx", "manifest.json", "notebooks")
PACKAGES = ("duiding", "numpy", "scipy", "pandas", "pandera", "statsmodels", "pymare", "papermill", "matplotlib",
            "seaborn", "jinja2", "python-docx", "pyyaml")  # fmt: skip


def notebooks_dir() -> Path:
    env = os.environ.get("DUIDING_NOTEBOOKS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "notebooks"


def blocks_html(
    blocks: list[b.Block], toc: list[dict[str, str]] | None = None, title: str = TITLE, subtitle: str = ""
) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    template = env.from_string(
        resources.files(__package__).joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    )
    return template.render(blocks=blocks, toc=toc or [], title=title, subtitle=subtitle, version=__version__)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _git_commit() -> str | None:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                               cwd=Path(__file__).resolve().parent).stdout.strip()  # fmt: skip
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def manifest(evidence_dir: Path, grade_dir: Path, params: dict[str, Any]) -> dict[str, Any]:
    ev_files = sorted(p for p in evidence_dir.rglob("*") if p.is_file())
    grade_files = sorted(p for p in grade_dir.rglob("*") if p.is_file())
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "inputs": {
            **{f"evidence/{p.relative_to(evidence_dir)}": _sha256(p) for p in ev_files},
            **{f"grade/{p.relative_to(grade_dir)}": _sha256(p) for p in grade_files},
        },
        "parameters": params,
        "versions": versions,
        "git_commit": _git_commit(),
        "rendered_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
    }


def _execute(notebook: Path, output: Path, parameters: dict[str, Any]) -> None:
    import papermill as pm

    # No cwd=: papermill implements it with a process-wide chdir, which races between the
    # threads that run notebooks in parallel. Every path passed in is absolute.
    pm.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name="python3", progress_bar=False,
                        log_output=False)  # fmt: skip


def render(evidence: str | Path = "evidence", grade: str | Path = "grade", out: str | Path = "reports",
           method: str | None = None, test: str | None = None, jobs: int = 2, progress: bool = True,
           previous: str | Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Render the draft standpunt; returns paths and timings. Raises InputError before
    writing anything when an input or parameter is wrong."""
    start = time.perf_counter()
    evidence_dir, grade_dir, out_dir = Path(evidence).resolve(), Path(grade).resolve(), Path(out).resolve()
    model = load_config("analysis")["model"]
    method, test = method or model["method"], test or model["test"]
    validate_parameters(
        {"method": method, "test": test, "evidence_dir": str(evidence_dir), "grade_dir": str(grade_dir)}
    )
    ev = load_evidence(evidence_dir)
    judgements = {p: load_judgements(grade_dir, p) for p in POPULATIONS}
    old_manifest = load_manifest(previous) if previous else None
    nb_dir = notebooks_dir()
    runs = [("evidence_overview.ipynb", "evidence", {"evidence_dir": str(evidence_dir)})]
    runs += [("population.ipynb", p, {"population": p, "method": method, "test": test, "evidence_dir": str(evidence_dir),
                                       "grade_dir": str(grade_dir)}) for p in POPULATIONS]  # fmt: skip
    for _, _, params in runs:
        validate_parameters(params)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".render-", dir=out_dir))
    try:
        sections_dir = tmp / "sections"
        (tmp / "notebooks").mkdir()
        timings = _run_notebooks(nb_dir, tmp, sections_dir, runs, jobs, progress)
        sections = {
            name: json.loads((sections_dir / f"{name}.json").read_text(encoding="utf-8")) for _, name, _ in runs
        }
        params = {"method": method, "test": test, "evidence": str(evidence_dir), "grade": str(grade_dir)}
        man = manifest(evidence_dir, grade_dir, params)
        man["notebook_seconds"] = timings
        man["results"] = {
            p: json.loads((sections_dir / f"{p}.summary.json").read_text(encoding="utf-8")) for p in POPULATIONS
        }
        changes = changes_blocks(compare(old_manifest, man), str(previous)) if old_manifest else []
        blocks, toc = assemble(ev, judgements, sections, man, method, test, changes)
        (tmp / "standpunt.html").write_text(blocks_html(blocks, toc, TITLE, _subtitle(man)), encoding="utf-8")
        b.to_docx(blocks, str(tmp / "standpunt.docx"), TITLE)
        (tmp / "manifest.json").write_text(json.dumps(man, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        shutil.rmtree(sections_dir)
        (tmp / "kernels.log").unlink(missing_ok=True)
        _move_into_place(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.perf_counter() - start
    return {"html": out_dir / "standpunt.html", "docx": out_dir / "standpunt.docx", "manifest": out_dir / "manifest.json",
            "seconds": elapsed}  # fmt: skip


def _run_notebooks(nb_dir: Path, tmp: Path, sections_dir: Path, runs, jobs: int, progress: bool) -> dict[str, float]:
    import papermill as pm
    from rich.progress import Progress

    timings: dict[str, float] = {}

    def one(run) -> str:
        notebook, name, params = run
        t0 = time.perf_counter()
        try:
            _execute(
                nb_dir / notebook, tmp / "notebooks" / f"{name}.ipynb", {**params, "output_dir": str(sections_dir)}
            )
        except pm.PapermillExecutionError as exc:
            raise RenderError(
                f"notebook {notebook} ({name}) failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
            ) from None
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
        import sys

        sys.stderr.flush()
        self.saved = os.dup(2)
        self.log = open(self.path, "w")  # closed in __exit__
        os.dup2(self.log.fileno(), 2)

    def __exit__(self, *exc: object) -> None:
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.log.close()


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    """Replace the previous report only now; each file move is atomic (same filesystem)."""
    old_notebooks = out_dir / "notebooks"
    if old_notebooks.exists():
        backup = out_dir / f".old-notebooks-{os.getpid()}"
        old_notebooks.rename(backup)
        (tmp / "notebooks").rename(old_notebooks)
        shutil.rmtree(backup)
    else:
        (tmp / "notebooks").rename(old_notebooks)
    for name in ("standpunt.docx", "manifest.json", "standpunt.html"):
        os.replace(tmp / name, out_dir / name)


def _subtitle(man: dict[str, Any]) -> str:
    commit = man["git_commit"] or "onbekend"
    return f"Conceptrapport, gegenereerd op {man['rendered_at']} uit git-commit {commit}. Alle getallen komen uit de berekeningen."


def assemble(
    ev, judgements, sections, man, method: str, test: str, changes: list[b.Block] | None = None
) -> tuple[list[b.Block], list[dict[str, str]]]:
    blocks: list[b.Block] = [b.paragraph("CONCEPT — dit document is automatisch gegenereerd door software (duiding) en is geen "
                                         "vastgesteld standpunt van Zorginstituut Nederland.", "banner")]  # fmt: skip
    counts = summary(ev)["populations"]
    blocks += _summary(man["results"])
    blocks += changes or []
    blocks += _introduction(counts)
    blocks += _pico()
    blocks += _method(counts, judgements, method, test)
    for p in POPULATIONS:
        blocks += sections[p]
    blocks += sections["evidence"]
    blocks += _reproducibility(man)
    toc = [
        {"anchor": x["anchor"], "text": x["text"]}
        for x in blocks
        if x["type"] == "heading" and x["level"] == 2 and x["anchor"]
    ]
    return blocks, toc


def _summary(results: dict[str, Any]) -> list[b.Block]:
    """From the conclusions the population notebooks computed (manifest results)."""
    items = [
        f"{POPULATION_LABELS[p]}: fysio- en oefentherapie {results[p]['conclusion']['verdict_nl']} voor deze populatie."
        for p in POPULATIONS
    ]
    return [
        b.heading("Samenvatting", 2, "samenvatting"),
        b.paragraph("Conceptconclusies per populatie, volgens de beslisregel van het Zorginstituut (zie 'Beoordeling en "
                    "conceptconclusie' per populatie voor elke stap):"),
        b.bullets(items),
    ]  # fmt: skip


def _introduction(counts: dict[str, Any]) -> list[b.Block]:
    n = sum(c["studies"] for c in counts.values())
    return [
        b.heading("Inleiding", 2, "inleiding"),
        b.heading("Aanleiding", 3),
        b.paragraph("Het Zorginstituut beoordeelt of fysiotherapie en oefentherapie bij volwassenen met lage rugklachten en "
                    "uitstralende pijn in het been voldoen aan de stand van de wetenschap en praktijk. In een eerdere ronde "
                    "(gestart in 2017, WAR april 2019) kwam het Zorginstituut voorlopig tot de conclusie dat behandeling door "
                    "een fysio- of oefentherapeut niet beter werkte dan gebruikelijke zorg voor de drie populaties; het "
                    "standpunt werd uitgesteld (bron: werkagenda Zorginstituut Nederland)."),
        b.heading("Vraagstelling", 3),
        b.paragraph("Is monodisciplinaire fysio- of oefentherapie effectiever dan gebruikelijke zorg, geen behandeling, een "
                    "minimale interventie of een schijnbehandeling op pijn en functioneren, bij (1) aspecifieke lage "
                    "rugklachten, (2) een lumbale hernia of stenose met uitstralende pijn in het been, en (3) na een lumbale "
                    f"wervelkolomoperatie? De evidence base bevat {n} gerandomiseerde studies."),
    ]  # fmt: skip


def _pico() -> list[b.Block]:
    cfg = load_config("analysis")
    rows = []
    for p in POPULATIONS:
        rows.append([POPULATION_LABELS[p], "Fysiotherapie of oefentherapie door een fysio- of oefentherapeut (monodisciplinair)",
                     ", ".join(COMPARATORS_NL[c] for c in cfg["comparators"]),
                     "Cruciaal: pijn, functioneren (0-100)", "; ".join(w["label_nl"] for w in cfg["windows"].values())])  # fmt: skip
    return [
        b.heading("PICO per populatie", 2, "pico"),
        b.table(["Populatie (P)", "Interventie (I)", "Vergelijking (C)", "Uitkomstmaten (O)", "Termijnen (T)"], rows),
    ]


def _method(counts: dict[str, Any], judgements, method: str, test: str) -> list[b.Block]:
    cfg = load_config("analysis")
    rules = load_config("grade_rules")
    per_pop = "; ".join(f"{POPULATION_LABELS[p].split(',')[0].split(' (')[0].lower()}: {c['studies']} studies, "
                        f"{c['studies_with_poolable_pain_or_function']} met poolbare gegevens over pijn of functioneren"
                        for p, c in counts.items())  # fmt: skip
    test_nl = "Knapp-Hartung (t-verdeling met k−1 vrijheidsgraden)" if test == "knha" else "z-toets"
    windows = "; ".join(f"{w['label_nl']}: doelmoment {g_nl(w['target'])} weken" for w in cfg["windows"].values())
    thresholds = []
    for p, j in judgements.items():
        for o, t in j.thresholds.items():
            thresholds.append([POPULATION_LABELS[p].split(",")[0].split(" (")[0], cfg["outcomes"][o]["label_nl"],
                               g_nl(t["MD100"]), g_nl(t["SMD"]), t["source"]])  # fmt: skip
    ri = rules["risk_of_bias"]
    return [
        b.heading("Methode", 2, "methode"),
        b.heading("Zoeken en selectie", 3),
        b.paragraph("De evidence base (map evidence/) bevat gerandomiseerde studies die zijn overgenomen uit openbaar "
                    "beschikbare bronnen (Cochrane-reviews, publicaties en samenvattingen), elk getal met adres en letterlijk "
                    f"bronfragment. Per populatie: {per_pop}. Er is geen nieuwe systematische zoekactie gedaan; de selectie "
                    "volgt uit de bronnen die in de evidence base zijn vastgelegd."),
        b.heading("Effectmaten", 3),
        b.paragraph("Continue uitkomsten worden gepoold als gemiddeld verschil op een schaal 0-100 (NRS 0-10 ×10, RMDQ ×100/24, "
                    "ODI zoals gerapporteerd; per instrument vastgelegd in evidence/instruments.csv); alternatief als SMD "
                    "(Hedges' g met exacte correctie) wanneer standaarddeviaties per arm beschikbaar zijn. Alle effecten zijn "
                    "zo gericht dat een negatieve waarde in het voordeel van de therapie is. Ontbrekende SD's zijn afgeleid uit "
                    "SE of 95%-BI (Cochrane Handbook 6.5.2.2); waar dat gebeurde staat het bij de analyse."),
        b.heading("Model", 3),
        b.paragraph(f"Random-effects meta-analyse met τ²-schatter {method} en {test_nl}; bij één studie de z-toets. "
                    "Heterogeniteit: Q, I² met Q-profile-BI, 95%-predictie-interval. Gevoeligheidsanalyses: fixed effect, "
                    "z-toets, alleen directe studies, alleen laag risico op bias, leave-one-out en subgroepen per type "
                    "vergelijking. De rekenkern is gecontroleerd tegen R-metafor (afwijking < 10⁻⁶)."),
        b.paragraph(f"Termijnen: {windows}; per studie telt het meetmoment dat het dichtst bij het doelmoment ligt. Per studie "
                    "en analyse één resultaat (voorkeur: uitkomstcode, type vergelijking, meetmoment, gegevensvorm)."),
        b.heading("GRADE", 3),
        b.paragraph(f"Zekerheid per uitkomst volgens GRADE, start hoog. Risico op bias: afwaarderen met 1 niveau als meer dan "
                    f"{nl(100 * ri['down_one_if_high_or_some_share_above'], 0)}% van het gewicht komt uit studies met hoog risico "
                    f"of enige zorgen, met 2 als meer dan {nl(100 * ri['down_two_if_high_share_above'], 0)}% uit hoog risico "
                    f"(PEDro ≥ {ri['pedro_low_from']} = laag). Inconsistentie: vanaf I² {rules['inconsistency']['down_one_if_i2_at_least']}% "
                    "als de schattingen of het predictie-interval aan beide kanten van de relevantiegrens liggen. "
                    "Onnauwkeurigheid: het 95%-BI tegen de relevantiegrens en nul, en de optimale informatiegrootte "
                    f"({rules['imprecision']['optimal_information_size']} deelnemers). Publicatiebias: alleen vanaf "
                    f"{rules['publication_bias']['min_studies']} studies (Egger-toets). Indirectheid: oordeel van de beoordelaar."),
        b.heading("Klinische relevantiegrenzen", 3),
        b.table(["Populatie", "Uitkomst", "MD 0-100", "SMD", "Bron"], thresholds),
    ]  # fmt: skip


def _reproducibility(man: dict[str, Any]) -> list[b.Block]:
    inputs = [[path, digest] for path, digest in sorted(man["inputs"].items())]
    versions = [[k, v or "niet geïnstalleerd"] for k, v in man["versions"].items()]
    params = [[k, str(v)] for k, v in man["parameters"].items()]
    return [
        b.heading("Bijlage C. Reproduceerbaarheid", 2, "bijlage-c"),
        b.paragraph(f"Git-commit: {man['git_commit'] or 'onbekend'}. Gegenereerd: {man['rendered_at']}. Zelfde invoer en "
                    "versies geven dezelfde tabellen en getallen (reports/manifest.json)."),
        b.table(["Parameter", "Waarde"], params, caption="Parameters"),
        b.table(["Pakket", "Versie"], versions, caption="Pakketversies"),
        b.table(["Invoerbestand", "SHA-256"], inputs, caption="Invoerbestanden", interactive=True, table_id="c-inputs"),
    ]  # fmt: skip
