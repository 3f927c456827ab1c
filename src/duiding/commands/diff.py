"""``duiding diff``: what changed between two renders (manifests or report folders)."""

from __future__ import annotations

import json
import sys


def command(args) -> int:
    from ..report.changes import compare, describe
    from ..report.manifest import load_manifest

    diff = compare(load_manifest(args.old), load_manifest(args.new))
    if args.format == "json":
        sys.stdout.write(json.dumps(diff, indent=1, ensure_ascii=False) + "\n")
        return 0
    lines = describe(diff)
    print("\n".join(lines) if lines else "no changes in studies, estimates, certainty or conclusions")
    return 0
