"""``duiding render``: the draft standpunt (HTML, DOCX, manifest) from the notebooks."""

from __future__ import annotations


def command(args) -> int:
    from ..report.pipeline import render

    result = render(
        args.evidence,
        args.grade,
        args.out,
        args.method,
        args.test,
        args.jobs,
        progress=not args.quiet,
        previous=args.previous,
    )
    written = f"{result['html']}, {result['docx']}, {result['manifest']}"
    print(f"duiding render: wrote {written} in {result['seconds']:.1f} s")
    return 0
