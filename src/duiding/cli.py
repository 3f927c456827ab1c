"""Command-line interface: ``duiding pool | check | render``.

Errors are one line per problem on stderr and a non-zero exit; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .analysis import METHODS, Model, ModelError, pool, pool_subgroups
from .errors import RenderError
from .inputs import MEASURES, InputError, group_codes, read_table, study_input
from .tables import format_table


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _pool_command(args: argparse.Namespace) -> int:
    if args.measure not in MEASURES:
        raise ModelError(f"unknown measure '{args.measure}' (choose from {', '.join(MEASURES)})")
    model = Model(args.measure, args.method, args.test)
    source = args.input
    frame = read_table(source)
    data = study_input(frame, args.measure, source, model.study_measure)
    codes, labels = None, None
    if args.by:
        codes, labels = group_codes(frame, args.by, source)
    results = pool(data, model, codes, labels).records()
    if args.mid is not None:
        _add_grade(results, frame, args, source)
    if args.subgroup:
        _add_subgroups(results, data, model, frame, args, codes, source)
    if not args.by:
        for rec in results:
            rec.pop("group")
    payload: Any = results if args.by else results[0]
    if args.format == "json":
        # json.dumps without indentation uses the C encoder: batches stay fast.
        sys.stdout.write(json.dumps(payload, indent=None if args.by else 1, allow_nan=False))
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_table(results))
    return 0


def _add_subgroups(results, data, model, frame, args, codes, source) -> None:
    import numpy as np

    sub_codes, sub_labels = group_codes(frame, args.subgroup, source)
    if codes is None:
        codes = np.zeros(len(sub_codes), dtype=np.int64)
    sg = pool_subgroups(data, model, codes, sub_codes, len(results))
    width = len(sub_labels)
    for rec in results:
        rec["subgroups"] = {"column": args.subgroup, "groups": [], "q_between": None}
    for row, sub in enumerate(sg.within.records()):
        parent = int(sg.parents[row])
        sub["value"] = sub_labels[int(sub.pop("group")) % width]
        results[parent]["subgroups"]["groups"].append(sub)
    from .analysis import clean

    for g, rec in enumerate(results):
        rec["subgroups"].update(
            clean(
                {
                    "q_between": sg.q_between[g],
                    "df_between": sg.df_between[g],
                    "p_between": sg.p_between[g],
                }
            )
        )


def _check_command(args: argparse.Namespace) -> int:
    from .evidence import load_evidence, summary

    evidence = load_evidence(args.evidence)
    report = summary(evidence)
    if args.format == "json":
        sys.stdout.write(json.dumps(report, indent=1) + "\n")
    else:
        for name, counts in report["populations"].items():
            details = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
            print(f"{name}: {details}")
        print(f"results without source: {report['results_without_source']}")
        print(f"{args.evidence}: OK")
    return 0


def _add_grade(results: list[dict], frame, args: argparse.Namespace, source: str) -> None:
    """GRADE suggestions per pooled result: --mid on the analysis scale, 'rob' column optional."""
    from .grade import suggest
    from .inputs import Problems, check

    if args.mid <= 0:
        raise ModelError(f"--mid must be > 0 (the clinical relevance threshold), got {args.mid}")
    group_of = frame[args.by].str.strip() if args.by else None
    rob_col = None
    if "rob" in frame.columns:
        rob_col = frame["rob"].str.strip().str.lower()
        problems = Problems(source)
        check(
            problems, (~rob_col.isin(["low", "some", "high", ""])).to_numpy(), "rob", "must be low, some, high or empty"
        )
        problems.raise_if_any()
    sizes = None
    if {"n1", "n2"} <= set(frame.columns):
        sizes = frame["n1"].astype(float) + frame["n2"].astype(float)
    for rec in results:
        rows = frame.index if group_of is None else frame.index[group_of == str(rec["group"])]
        by_study = {frame.at[i, "study"].strip(): i for i in rows}
        idx = [by_study[s["study"]] for s in rec["studies"]]
        rob = None if rob_col is None else [rob_col[i] or "not assessed" for i in idx]
        n_total = None if sizes is None else float(sizes[idx].sum())
        rec["grade"] = suggest(rec, rob, args.mid, n_total).as_dict()


def _render_command(args: argparse.Namespace) -> int:
    from .report import render

    result = render(args.evidence, args.grade, args.out, args.method, args.test, args.jobs, progress=not args.quiet,
                    previous=args.previous)  # fmt: skip
    print(
        f"duiding render: wrote {result['html']}, {result['docx']}, {result['manifest']} in {result['seconds']:.1f} s"
    )
    return 0


def _diff_command(args: argparse.Namespace) -> int:
    from .changes import compare, describe, load_manifest

    diff = compare(load_manifest(args.old), load_manifest(args.new))
    if args.format == "json":
        sys.stdout.write(json.dumps(diff, indent=1, ensure_ascii=False) + "\n")
    else:
        lines = describe(diff)
        print("\n".join(lines) if lines else "no changes in studies, estimates, certainty or conclusions")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="duiding", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("pool", help="meta-analyse study-level data from a CSV file")
    p.add_argument("--input", required=True, help="CSV with a 'study' column and the measure's columns")
    p.add_argument("--measure", required=True, help=f"one of {', '.join(MEASURES)}")
    p.add_argument("--method", required=True, help=f"one of {', '.join(METHODS)}")
    p.add_argument("--test", default="z", help="z or knha (default z)")
    p.add_argument("--by", help="pool every group of rows with the same value in this column")
    p.add_argument("--subgroup", help="subgroup analysis on this column, with the test for differences")
    p.add_argument("--format", default="json", choices=("json", "table"))
    p.add_argument("--mid", type=float, help="clinical relevance threshold (> 0, analysis scale): adds GRADE")
    p.set_defaults(func=_pool_command)
    c = sub.add_parser("check", help="validate the evidence base (read-only)")
    c.add_argument("--evidence", default="evidence", help="evidence folder (default: evidence)")
    c.add_argument("--format", default="text", choices=("text", "json"))
    c.set_defaults(func=_check_command)
    r = sub.add_parser("render", help="execute the notebooks and write the draft standpunt (HTML + DOCX)")
    r.add_argument("--evidence", default="evidence")
    r.add_argument("--grade", default="grade")
    r.add_argument("--out", default="reports")
    r.add_argument("--method", help="tau² estimator for the main analyses (default: config)")
    r.add_argument("--test", help="z or knha (default: config)")
    r.add_argument("--jobs", type=int, default=2, help="notebooks executed in parallel (default 2)")
    r.add_argument("--quiet", action="store_true", help="no progress display")
    r.add_argument("--previous", help="manifest.json (or report folder) of an earlier render: adds 'what changed'")
    r.set_defaults(func=_render_command)
    d = sub.add_parser("diff", help="what changed between two renders (manifest files or report folders)")
    d.add_argument("old")
    d.add_argument("new")
    d.add_argument("--format", default="text", choices=("text", "json"))
    d.set_defaults(func=_diff_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except InputError as exc:
        for line in exc.problems:
            print(f"duiding {args.command}: {line}", file=sys.stderr)
        return 1
    except ModelError as exc:
        print(f"duiding {args.command}: {exc}", file=sys.stderr)
        return 2
    except RenderError as exc:
        print(f"duiding {args.command}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1
    except Exception as exc:  # never a bare traceback; DUIDING_DEBUG=1 shows it
        if os.environ.get("DUIDING_DEBUG"):
            raise
        print(
            f"duiding {args.command}: internal error ({type(exc).__name__}: {exc}); "
            "rerun with DUIDING_DEBUG=1 and report it",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
