"""``duiding check``: validate the evidence base (read-only) and print its counts."""

from __future__ import annotations

import json
import sys


def command(args) -> int:
    from ..evidence import load_evidence, summary

    report = summary(load_evidence(args.evidence))
    if args.format == "json":
        sys.stdout.write(json.dumps(report, indent=1) + "\n")
        return 0
    for name, counts in report["populations"].items():
        details = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
        print(f"{name}: {details}")
    print(f"results without source: {report['results_without_source']}")
    print(f"{args.evidence}: OK")
    return 0
