"""What the notebooks call: one verb per step of the analysis, each returning an object
that shows itself in the notebook (in Dutch, without report chrome).

The population notebook reads as the analysis, step by step::

    evidence = nb.load_evidence(evidence_dir)                       # 1. the evidence base
    selection = nb.select(evidence, population, grade_dir, method, test)  # 2. which results, and why not
    fits = nb.fit(selection)                                        # 3. the fits, as metafor prints them
    nb.forest_plots(fits)                                           # 4. forest plots
    grading = nb.grade(fits, grade_dir)                             # 5. GRADE per domain
    sof = nb.summary_of_findings(grading)                           # 6. the SoF table
    conclusion = nb.conclude(grading)                               # 7. ZIN's rule, step by step
    nb.save(conclusion, output_dir)                                 # hand-off to `duiding render`

``duiding render`` executes the same cells with papermill; the last one writes the
section's blocks and the manifest summary, which the render reads back as data. An error
the user can act on (a wrong parameter, a problem in the evidence) shows as one line in
the cell, not as a traceback (:func:`setup` installs IPython's custom exception hook).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DuidingError, InputError
from ..evidence import POPULATIONS, EvidenceBase, load_validated
from ..evidence import summary as _summary
from ..grade import (
    AnalysisSet,
    Conclusion,
    PopulationAssessment,
    SofTable,
    TippingPoint,
    analyses_for,
    grade_analyses,
    load_judgements,
    tipping_points,
)
from ..grade import conclude as _conclude
from ..grade import sof_table as _sof_table
from ..meta import RE_METHODS, TESTS
from . import blocks as b
from .figures import forest_plot
from .grading import conclusion_blocks, sof_blocks, tipping_blocks
from .html import fragment
from .manifest import population_summary
from .population import SCALE_MD100, population_section, sensitivity_table
from .text import label, num, outcome_window, reason_text

REPORT_METHODS = ("FE", *RE_METHODS)


def check_parameters(**params: Any) -> None:
    """Reject unknown values before any kernel starts (one line per problem)."""
    problems = []
    population = params.get("population")
    if population is not None and population not in POPULATIONS:
        problems.append(f"parameter population: unknown '{population}' (choose from {', '.join(POPULATIONS)})")
    method = params.get("method")
    if method is not None and method not in REPORT_METHODS:
        problems.append(f"parameter method: unknown '{method}' (choose from {', '.join(REPORT_METHODS)})")
    test = params.get("test")
    if test is not None and test not in TESTS:
        problems.append(f"parameter test: unknown '{test}' (choose from {', '.join(TESTS)})")
    for key in ("evidence_dir", "grade_dir"):
        if key in params and not Path(params[key]).is_dir():
            problems.append(f"parameter {key}: folder not found: {params[key]}")
    jobs = params.get("jobs")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        problems.append(f"parameter jobs: must be a whole number ≥ 1, got {jobs!r}")
    if problems:
        raise InputError(problems)


def _one_line(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> list[str]:
    """IPython custom exception handler: the error's lines instead of a traceback."""
    lines = value.lines if isinstance(value, DuidingError) else [str(value)]
    text = [f"\x1b[31mduiding: {line}\x1b[0m" for line in lines]
    shell._showtraceback(etype, value, text)
    return text


def setup() -> None:
    """In a notebook: show errors the user can act on as one line each."""
    try:
        from IPython import get_ipython
    except ImportError:  # not in IPython: nothing to install
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((DuidingError,), _one_line)


class _Shown:
    """Base of the step results: a notebook shows them through :meth:`blocks`."""

    def blocks(self) -> list[b.Block]:
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return fragment(self.blocks())

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: shown as HTML in a notebook>"


@dataclass
class Evidence(_Shown):
    """Step 1: the evidence base, validated (a problem stops here with one line per problem)."""

    base: EvidenceBase

    def blocks(self) -> list[b.Block]:
        counts = _summary(self.base)
        rows = [
            [
                label("populations_short", p),
                c["studies"],
                c["studies_included"],
                c["studies_indirect"],
                c["results"],
                c["studies_with_poolable_pain_or_function"],
                c["risk_of_bias_studies"],
            ]
            for p, c in counts["populations"].items()
        ]
        columns = ["Populatie", "Studies", "Direct", "Indirect", "Resultaten", "Poolbaar (pijn/functie)", "Met RoB"]
        text = (
            f"Evidence base {self.base.root}: gecontroleerd, geen problemen gevonden. "
            f"{counts['results_without_source']} resultaten zonder bron; {counts['instruments']} instrumenten."
        )
        return [b.Paragraph(text), b.Table(columns, rows)]


@dataclass
class Selection(_Shown):
    """Step 2: per outcome and window the chosen result per study, and what was left out."""

    analyses: AnalysisSet

    def blocks(self) -> list[b.Block]:
        out: list[b.Block] = []
        for a in self.analyses.primary:
            sel = a.selection
            title = outcome_window(a.spec.outcome, a.spec.window, a.spec.population)
            out.append(b.Heading(f"{title}: {sel.k} studies", 4))
            if sel.k:
                rows = [
                    [
                        r.study_id,
                        r.result_id,
                        r.instrument,
                        f"{r.timepoint_weeks:g}",
                        num(r.yi),
                        num(r.vi, 2),
                        label("rob_judgements", rob),
                    ]
                    for r, rob in zip(sel.rows.itertuples(), a.rows["rob"], strict=True)
                ]
                columns = ["Studie", "Resultaat", "Instrument", "Weken", "MD (0-100)", "Variantie", "Risico op bias"]
                out.append(b.Table(columns, rows))
            if len(sel.excluded):
                left = [
                    [r.result_id, r.study_id, label("exclusion_reasons", r.reason).format(other=r.other_result)]
                    for r in sel.excluded.itertuples()
                ]
                out.append(b.Table(["Niet gebruikt", "Studie", "Reden"], left))
        return out


@dataclass
class Fits(_Shown):
    """Step 3: every analysis fitted; the summary is metafor's printout (in English, as R prints it)."""

    analyses: AnalysisSet

    def blocks(self) -> list[b.Block]:
        out: list[b.Block] = []
        for a in self.analyses.primary:
            out.append(b.Heading(outcome_window(a.spec.outcome, a.spec.window, a.spec.population), 4))
            fit = a.result or a.plain
            if fit is None:
                out.append(b.Paragraph("Geen studies."))
                continue
            out.append(b.Paragraph(f"Model: {label('policies', a.policy)}."))
            out.append(b.Paragraph(fit.summary(), "code", "en"))
        return out


@dataclass
class ForestPlots(_Shown):
    """Step 4: the forest plots of the analyses with studies."""

    analyses: AnalysisSet
    mids: dict[str, float]

    def blocks(self) -> list[b.Block]:
        out: list[b.Block] = []
        for a in self.analyses.primary:
            fit = a.result or a.plain
            if fit is None:
                continue
            title = f"{outcome_window(a.spec.outcome, a.spec.window, a.spec.population)}: MD op 0-100"
            mid = self.mids[a.spec.outcome]
            png = forest_plot(fit, mid, self.analyses.robs, title, SCALE_MD100, pooled=a.result is not None)
            out.append(b.Figure(png, title, f"Forest plot {title}"))
        return out


@dataclass
class Grading(_Shown):
    """Step 5: GRADE per analysis: the rule's suggestion, the level used, and why."""

    assessment: PopulationAssessment

    def blocks(self) -> list[b.Block]:
        out: list[b.Block] = []
        for o in self.assessment.outcomes:
            out.append(b.Heading(outcome_window(o.spec.outcome, o.spec.window, o.spec.population), 4))
            if o.grading is None:
                out.append(b.Paragraph("Geen studies: niet te graderen."))
                continue
            rows = []
            for domain, rating in o.grading.ratings.items():
                suggested = rating.level if rating.suggested is None else rating.suggested
                rows.append(
                    [
                        label("domains", domain),
                        suggested,
                        rating.level,
                        reason_text(rating.reason),
                        rating.override_reason,
                    ]
                )
            columns = ["Domein", "Suggestie", "Gebruikt", "Reden", "Oordeel beoordelaar"]
            certainty = f"Zekerheid: {label('certainty', o.grading.certainty)} {o.grading.level.symbol}"
            out += [b.Table(columns, rows), b.Paragraph(certainty)]
            out.append(sensitivity_table(o, self.assessment.alternative_of(o)))
        return out


@dataclass
class SummaryOfFindings(_Shown):
    """Step 6: the Summary of Findings table as the report shows it."""

    table: SofTable
    assessment: PopulationAssessment

    def blocks(self) -> list[b.Block]:
        return sof_blocks(self.assessment, self.table)[1:]


@dataclass
class Draft(_Shown):
    """Step 7: the draft conclusion with every step of ZIN's rule, and its tipping points."""

    conclusion: Conclusion
    assessment: PopulationAssessment
    tipping: list[TippingPoint]

    def blocks(self) -> list[b.Block]:
        return conclusion_blocks(self.assessment, self.conclusion)[1:] + tipping_blocks(self.assessment, self.tipping)


def load_evidence(evidence_dir: str, evidence_cache: str = "") -> Evidence:
    """Read and validate the evidence base (``evidence_cache``: the render's validated copy)."""
    check_parameters(evidence_dir=evidence_dir)
    return Evidence(load_validated(evidence_dir, evidence_cache))


def select(evidence: Evidence, population: str, grade_dir: str, method: str = "REML", test: str = "knha") -> Selection:
    """The plan's analyses as the assessor's file sets them up (thresholds for the baseline
    rule, indirect studies in or out)."""
    check_parameters(population=population, method=method, test=test, grade_dir=grade_dir)
    judgements = load_judgements(grade_dir, population, set(evidence.base.of("studies", population)["study_id"]))
    return Selection(analyses_for(evidence.base, judgements, method, test))


def fit(selection: Selection) -> Fits:
    for a in [*selection.analyses.primary, *selection.analyses.alternative]:
        _ = a.result  # fit now, so that the cell shows what it computed
    return Fits(selection.analyses)


def forest_plots(fits: Fits, grade_dir: str) -> ForestPlots:
    """Forest plots with the assessor's relevance thresholds drawn in."""
    check_parameters(grade_dir=grade_dir)
    j = load_judgements(grade_dir, fits.analyses.population)
    return ForestPlots(fits.analyses, {o: j.mid(o, "MD100") for o in j.thresholds})


def grade(fits: Fits, grade_dir: str) -> Grading:
    check_parameters(grade_dir=grade_dir)
    judgements = load_judgements(grade_dir, fits.analyses.population)
    return Grading(grade_analyses(fits.analyses, judgements))


def summary_of_findings(grading: Grading) -> SummaryOfFindings:
    return SummaryOfFindings(_sof_table(grading.assessment), grading.assessment)


def conclude(grading: Grading) -> Draft:
    """ZIN's rule, and which single choice would flip it (tipping points)."""
    pa = grading.assessment
    spec = pa.outcomes[0].spec
    return Draft(_conclude(pa), pa, tipping_points(pa.evidence, pa.judgements, spec.method, spec.test))


def save(draft: Draft, output_dir: str) -> Path | None:
    """Write the report section and the manifest summary for ``duiding render``."""
    if not output_dir:
        return None
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    pa, ev = draft.assessment, draft.assessment.evidence
    _write(folder / f"{pa.population}.json", b.to_json(population_section(ev, pa, draft.conclusion, draft.tipping)))
    _write(folder / f"{pa.population}.summary.json", population_summary(ev, pa, draft.conclusion, draft.tipping))
    return folder


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
