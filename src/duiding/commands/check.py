"""``duiding check``: validate the evidence base and, where the grade folder is there, the
assessor's judgements and ratings (read-only), and print the counts."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def command(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..evidence import POPULATIONS, load_evidence, summary
    from ..grade import load_judgements, plan_analyses, unrated_studies

    ev = load_evidence(args.evidence)
    report = summary(ev)
    graded = Path(args.grade).is_dir()
    ratings, problems = {}, []
    for p in POPULATIONS:
        # the judgements file and the assessor's own ratings, as render will read them
        try:
            ratings[p] = load_judgements(args.grade, p, set(ev.of("studies", p)["study_id"])).rob_ratings
        except InputError as exc:
            if graded:
                problems += exc.lines
            ratings[p] = {}
    if problems:
        raise InputError(problems)
    for p in POPULATIONS:
        # Studies in any analysis without a rating, counting the assessor's own ratings.
        assessor = ratings[p]
        report["populations"][p]["studies_without_rob"] = unrated_studies(plan_analyses(ev, p, assessor_robs=assessor))
        report["populations"][p]["assessor_rob_studies"] = len(assessor)
    if args.format == "json":
        sys.stdout.write(json.dumps(report, indent=1) + "\n")
        return 0
    for name, counts in report["populations"].items():
        details = ", ".join(f"{k.replace('_', ' ')} {_short(v)}" for k, v in counts.items() if k != "screening")
        print(f"{name}: {details}")
    print(f"results without source: {report['results_without_source']}")
    print(f"{args.evidence}: OK" + (f"; {args.grade}: OK" if graded else ""))
    return 0


def _short(value: object) -> str:
    """A count as it is; a list as its length with the first names."""
    if isinstance(value, list):
        names = ", ".join(value[:5]) + (", …" if len(value) > 5 else "")
        return f"{len(value)}" + (f" ({names})" if value else "")
    return str(value)
