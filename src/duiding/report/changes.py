"""What changed between two reports: studies, pooled estimates, certainty, conclusions.

Each render stores a compact summary per population in ``manifest.json``
(:mod:`.manifest`); ``duiding diff`` and the report's "Wijzigingen" section compare two.
"""

from __future__ import annotations

from typing import Any

from . import blocks as b
from .text import label, num

MOVE_TOLERANCE = 1e-9
NO_CHANGES = "geen wijzigingen in studies, schattingen, zekerheid of conclusies."


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
            if _moved(a, c):
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


def _moved(a: dict[str, Any] | None, c: dict[str, Any] | None) -> bool:
    """Studies, model or estimate differ (an estimate is None where the plan did not pool)."""
    if a is None or c is None:
        return True
    if a["k"] != c["k"]:
        return True
    if "model" in a and "model" in c and a["model"] != c["model"]:  # older manifests have no model
        return True
    if (a.get("estimate") is None) != (c.get("estimate") is None):
        return True
    return a.get("estimate") is not None and abs(a["estimate"] - c["estimate"]) > MOVE_TOLERANCE


def _est(a: dict[str, Any] | None) -> str:
    if a is None:
        return "geen analyse"
    model = f", {label('policies', a['model'])}" if a.get("model") not in (None, "standard", "single_study") else ""
    if a.get("estimate") is None:
        return f"niet gepoold, k = {a['k']}{model}"
    return f"{num(a['estimate'])} ({num(a['ci_low'])} tot {num(a['ci_high'])}), k = {a['k']}{model}"


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
    summary = f"{len(lines)} wijzigingen." if lines else NO_CHANGES
    return [
        b.Heading("Wijzigingen sinds het vorige rapport", 2, "wijzigingen"),
        b.Paragraph(f"Vergeleken met {previous}: {summary}"),
        *([b.Bullets(lines)] if lines else []),
    ]
