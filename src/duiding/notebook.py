"""What the notebooks call: validated parameters in, report blocks out (and saved).

Notebooks stay thin: a parameters cell, one call here, one display. The same calls run
when an assessor reruns a notebook in JupyterLab and when ``duiding render`` executes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import blocks as b
from .analysis import METHODS
from .evidence_schema import POPULATIONS
from .inputs import InputError
from .rma import TESTS

RE_METHODS_FOR_REPORT = tuple(m for m in METHODS if m not in ("MH", "PETO"))


def validate_parameters(params: dict[str, Any]) -> None:
    """Reject unknown values before any kernel starts (one line per problem)."""
    problems = []
    if "population" in params and params["population"] not in POPULATIONS:
        problems.append(
            f"parameter population: unknown '{params['population']}' (choose from {', '.join(POPULATIONS)})"
        )
    if "method" in params and params["method"] not in RE_METHODS_FOR_REPORT:
        problems.append(
            f"parameter method: unknown '{params['method']}' (choose from {', '.join(RE_METHODS_FOR_REPORT)})"
        )
    if "test" in params and params["test"] not in TESTS:
        problems.append(f"parameter test: unknown '{params['test']}' (choose from {', '.join(TESTS)})")
    for key in ("evidence_dir", "grade_dir"):
        if key in params and not Path(params[key]).is_dir():
            problems.append(f"parameter {key}: folder not found: {params[key]}")
    if problems:
        raise InputError(problems)


def _save(data: Any, output_dir: str, name: str) -> None:
    if output_dir:
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def run_population(
    population: str, method: str, test: str, evidence_dir: str, grade_dir: str, output_dir: str = ""
) -> list[b.Block]:
    from .assessment import assess
    from .changes import population_summary
    from .evidence import load_evidence
    from .judgements import load_judgements
    from .sections import population_section

    validate_parameters(
        {"population": population, "method": method, "test": test, "evidence_dir": evidence_dir, "grade_dir": grade_dir}
    )
    ev = load_evidence(evidence_dir)
    pa = assess(ev, load_judgements(grade_dir, population), method, test)
    blocks = population_section(ev, pa)
    _save(blocks, output_dir, population)
    _save(population_summary(ev, pa), output_dir, f"{population}.summary")
    return blocks


def run_evidence(evidence_dir: str, output_dir: str = "") -> list[b.Block]:
    from .sections import evidence_section

    validate_parameters({"evidence_dir": evidence_dir})
    blocks = evidence_section(evidence_dir)
    _save(blocks, output_dir, "evidence")
    return blocks


def show(blocks: list[b.Block]) -> Any:
    """Display blocks in a notebook, using the report's own HTML."""
    from IPython.display import HTML

    from .report import blocks_html

    return HTML(blocks_html(blocks))
