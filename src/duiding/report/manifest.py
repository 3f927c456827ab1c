"""The manifest of a render: input hashes, parameters, versions, the git commit, and a
compact summary per population (study fingerprints, every analysis, the conclusion).

The summaries are the only dictionaries the report keeps: they are the JSON edge that
``duiding diff`` and the "Wijzigingen" section compare, and they are written by the
population notebooks for the render to read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..evidence import EvidenceBase
from ..grade import Conclusion, GradedOutcome, PopulationAssessment, TippingPoint, conclude
from .grading import crucial_statements, tipping_lines
from .text import verdict

PACKAGES = (
    "duiding",
    "numpy",
    "scipy",
    "pandas",
    "pandera",
    "statsmodels",
    "pymare",
    "papermill",
    "matplotlib",
    "seaborn",
    "jinja2",
    "python-docx",
    "pyyaml",
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def git_commit() -> str | None:
    """HEAD of the package's checkout, with "-dirty" for uncommitted changes (None outside git)."""
    here = Path(__file__).resolve().parent
    try:
        run = {"capture_output": True, "text": True, "cwd": here}
        head = subprocess.run(["git", "rev-parse", "HEAD"], check=True, **run).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], **run).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def git_commit_date() -> str | None:
    """The date of HEAD's commit (YYYY-MM-DD): the report's date, equal for equal inputs."""
    here = Path(__file__).resolve().parent
    try:
        run = {"capture_output": True, "text": True, "cwd": here}
        return subprocess.run(["git", "log", "-1", "--format=%cs"], check=True, **run).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


def input_files(ev: EvidenceBase, grade_files: list[Path]) -> dict[str, str]:
    """SHA-256 of every file the render read: the evidence tables and the judgements."""
    out = {f"evidence/{p.relative_to(ev.root)}": sha256(p) for p in ev.files() if p.is_file()}
    out.update({f"grade/{p.name}": sha256(p) for p in grade_files})
    return out


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def manifest(ev: EvidenceBase, grade_files: list[Path], params: dict[str, Any]) -> dict[str, Any]:
    return {
        "inputs": input_files(ev, grade_files),
        "parameters": params,
        "versions": versions(),
        "git_commit": git_commit(),
        "commit_date": git_commit_date(),
        "rendered_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
    }


def fingerprint(frames: list[pd.DataFrame]) -> str:
    payload = [f.drop(columns=[c for c in f if str(c).startswith("_")]).astype(str).to_dict("records") for f in frames]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def population_summary(
    ev: EvidenceBase,
    pa: PopulationAssessment,
    conclusion: Conclusion | None = None,
    tipping: list[TippingPoint] | None = None,
) -> dict[str, Any]:
    """What ``duiding diff`` compares for one population: per analysis the headline fit,
    the model the small-k policy chose, the plain random-effects fit beside it, and the
    five GRADE domain levels (the keys of ``pool --mid``); and, for the summary and the
    conclusion chapters, the GRADE conclusions on the crucial outcomes and the tipping points."""
    p = pa.population
    studies, results = ev.of("studies", p), ev.of("results", p)
    sources, rob = ev.of("sources", p), ev.of("risk_of_bias", p)
    fingerprints = {}
    for sid in studies["study_id"]:
        res = results[results["study_id"] == sid]
        src = sources[sources["result_id"].isin(res["result_id"])]
        frames = [studies[studies["study_id"] == sid], res, src, rob[rob["study_id"] == sid]]
        fingerprints[str(sid)] = fingerprint(frames)
    analyses: dict[str, Any] = {}
    for o in [*pa.outcomes, *pa.alternative]:
        key = f"{o.spec.outcome}/{o.spec.window}/{o.spec.measure}"
        analyses[key] = analysis_summary(o)
    c = conclusion or conclude(pa)
    return {
        "studies": fingerprints,
        "analyses": analyses,
        "statements": crucial_statements(pa),
        "tipping": tipping_lines(pa, tipping or []),
        "conclusion": {"meets": c.meets, "designs_met": c.designs_met, "verdict_nl": verdict(c.meets, c.designs_met)},
    }


def analysis_summary(o: GradedOutcome) -> dict[str, Any] | None:
    """One analysis in the manifest (None: no studies). Two heterogeneous studies that the
    plan does not pool have no estimate (``model`` qualitative), but are graded."""
    r, plain = o.result, o.analysis.plain
    if plain is None:
        return None
    out: dict[str, Any] = {
        "k": plain.k,
        "estimate": None if r is None else r.estimate,
        "ci_low": None if r is None else r.ci_low,
        "ci_high": None if r is None else r.ci_high,
        "model": o.analysis.policy,
        "certainty": o.grading.level.en if o.grading else None,
        "grade": o.grading.levels() if o.grading else None,
        "studies": plain.studies,
        "unpooled": dict(o.analysis.selection.directions),
    }
    if plain is not r:
        out["plain"] = {"estimate": plain.estimate, "ci_low": plain.ci_low, "ci_high": plain.ci_high}
    return out


def load_manifest(path: str | Path) -> dict[str, Any]:
    """A manifest (or a report folder holding one), checked before anything uses it."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise InputError([f"{path}: manifest not found"]) from None
    except PermissionError:
        raise InputError([f"{path}: cannot be read (permission denied)"]) from None
    except IsADirectoryError:
        raise InputError([f"{path}: is a folder without manifest.json"]) from None
    except UnicodeDecodeError:
        raise InputError([f"{path}: not a manifest (not UTF-8 text)"]) from None
    except json.JSONDecodeError as exc:
        raise InputError([f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})"]) from None
    check_manifest(data, str(path))
    return data


def check_manifest(data: Any, source: str) -> None:
    """The parts of a manifest that ``diff`` reads, with their types."""
    if not isinstance(data, dict):
        raise InputError([f"{source}: not a manifest (expected a JSON object)"])
    if "results" not in data:
        raise InputError([f"{source}: no 'results' section (rendered by an older duiding?)"])
    problems = []
    results = data["results"]
    if not isinstance(results, dict):
        raise InputError([f"{source}, results: expected an object per population"])
    for p, pop in results.items():
        where = f"{source}, results.{p}"
        if not isinstance(pop, dict):
            problems.append(f"{where}: expected an object")
            continue
        if not isinstance(pop.get("studies", {}), dict):
            problems.append(f"{where}.studies: expected an object of study fingerprints")
        analyses = pop.get("analyses", {})
        if not isinstance(analyses, dict):
            problems.append(f"{where}.analyses: expected an object")
            continue
        for key, a in analyses.items():
            if a is None:
                continue
            if not isinstance(a, dict):
                problems.append(f"{where}.analyses.{key}: expected an object or null")
                continue
            fields = ("k",) if a.get("model") == "qualitative" else ("k", "estimate")
            for field in fields:
                value = a.get(field)
                if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
                    problems.append(f"{where}.analyses.{key}.{field}: expected a finite number, got {value!r}")
            for field, kind, name in (("certainty", str, "a certainty level"), ("grade", dict, "an object")):
                if a.get(field) is not None and not isinstance(a.get(field), kind):
                    problems.append(f"{where}.analyses.{key}.{field}: expected {name}, got {a.get(field)!r}")
            if not isinstance(a.get("studies", []), list):
                problems.append(f"{where}.analyses.{key}.studies: expected a list of study ids")
        if not isinstance(pop.get("conclusion", {}), dict):
            problems.append(f"{where}.conclusion: expected an object")
    if problems:
        raise InputError(problems)
