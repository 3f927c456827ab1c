"""What changed between two reports: studies, pooled estimates, certainty, conclusions.

Each render stores a compact summary per population in ``manifest.json`` (study
fingerprints, every pooled analysis, the conclusion); ``duiding diff`` and the report's
"Wijzigingen" section compare two of them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from . import blocks as b
from .assessment import PopulationAssessment
from .evidence import EvidenceBase
from .formatting import nl
from .inputs import InputError

MOVE_TOLERANCE = 1e-9
NO_CHANGES = "geen wijzigingen in studies, schattingen, zekerheid of conclusies."


def _fingerprint(frames: list[pd.DataFrame]) -> str:
    payload = [f.drop(columns=[c for c in ("_file", "_row") if c in f]).astype(str).to_dict("records") for f in frames]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def population_summary(ev: EvidenceBase, pa: PopulationAssessment) -> dict[str, Any]:
    p = pa.population
    studies = ev.studies[ev.studies["_population"] == p]
    results = ev.results[ev.results["_population"] == p]
    sources = ev.sources[ev.sources["_population"] == p]
    rob = ev.risk_of_bias[ev.risk_of_bias["_population"] == p]
    fingerprints = {}
    for sid in studies["study_id"]:
        res = results[results["study_id"] == sid]
        frames = [studies[studies["study_id"] == sid], res, sources[sources["result_id"].isin(res["result_id"])],
                  rob[rob["study_id"] == sid]]  # fmt: skip
        fingerprints[str(sid)] = _fingerprint(frames)
    analyses = {}
    for o in [*pa.outcomes, *pa.alternative]:
        key = f"{o.spec.outcome}/{o.spec.window}/{o.spec.measure}"
        r = o.result
        analyses[key] = None if r is None else {
            "k": r["k"], "estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
            "certainty": o.grading.label("en") if o.grading else None,
            "studies": [s["study"] for s in r["studies"]],
        }  # fmt: skip
    return {
        "studies": fingerprints,
        "analyses": analyses,
        "conclusion": {"meets": pa.conclusion.meets, "verdict_nl": pa.conclusion.verdict_nl},
    }


def load_manifest(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError([f"{path}: manifest not found"]) from None
    except json.JSONDecodeError as exc:
        raise InputError([f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})"]) from None
    if "results" not in data:
        raise InputError([f"{path}: no 'results' section (rendered by an older duiding?)"])
    return data


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in sorted(set(old["results"]) | set(new["results"])):
        o, n = old["results"].get(p, {}), new["results"].get(p, {})
        os_, ns = o.get("studies", {}), n.get("studies", {})
        moved, certainty = [], []
        for key in sorted(set(o.get("analyses", {})) | set(n.get("analyses", {}))):
            a, c = o.get("analyses", {}).get(key), n.get("analyses", {}).get(key)
            if a is None and c is None:
                continue
            if a is None or c is None or a["k"] != c["k"] or abs(a["estimate"] - c["estimate"]) > MOVE_TOLERANCE:
                moved.append({"analysis": key, "old": a, "new": c})
            if (a or {}).get("certainty") != (c or {}).get("certainty"):
                certainty.append(
                    {"analysis": key, "old": (a or {}).get("certainty"), "new": (c or {}).get("certainty")}
                )
        old_c, new_c = o.get("conclusion", {}), n.get("conclusion", {})
        out[p] = {
            "studies_added": sorted(set(ns) - set(os_)),
            "studies_removed": sorted(set(os_) - set(ns)),
            "studies_changed": sorted(s for s in set(os_) & set(ns) if os_[s] != ns[s]),
            "estimates_moved": moved,
            "certainty_changed": certainty,
            "conclusion_flipped": old_c.get("meets") != new_c.get("meets"),
            "conclusion_old": old_c.get("verdict_nl"),
            "conclusion_new": new_c.get("verdict_nl"),
        }
    return out


def _est(a: dict[str, Any] | None) -> str:
    if a is None:
        return "geen analyse"
    return f"{nl(a['estimate'])} ({nl(a['ci_low'])} tot {nl(a['ci_high'])}), k = {a['k']}"


def describe(diff: dict[str, Any]) -> list[str]:
    """One Dutch line per change (empty when nothing changed)."""
    lines = []
    for p, d in diff.items():
        for key, text in (
            ("studies_added", "toegevoegd"),
            ("studies_removed", "verwijderd"),
            ("studies_changed", "gewijzigd"),
        ):
            if d[key]:
                lines.append(f"{p}: studies {text}: {', '.join(d[key])}")
        for m in d["estimates_moved"]:
            lines.append(f"{p}: {m['analysis']}: {_est(m['old'])} → {_est(m['new'])}")
        for c in d["certainty_changed"]:
            lines.append(f"{p}: {c['analysis']}: zekerheid {c['old']} → {c['new']}")
        if d["conclusion_flipped"]:
            lines.append(f"{p}: CONCLUSIE GEWIJZIGD: '{d['conclusion_old']}' → '{d['conclusion_new']}'")
    return lines


def changes_blocks(diff: dict[str, Any], previous: str) -> list[b.Block]:
    lines = describe(diff)
    return [
        b.heading("Wijzigingen sinds het vorige rapport", 2, "wijzigingen"),
        b.paragraph(f"Vergeleken met {previous}: " + (f"{len(lines)} wijzigingen." if lines else NO_CHANGES)),
        *([b.bullets(lines)] if lines else []),
    ]
