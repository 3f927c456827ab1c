"""Benchmarks: print figures, assert nothing (tests check correctness, not speed).

1. Batch pooling: `duiding pool --by` on 2,000 groups × 8 studies (REML), against an R
   loop over metafor::rma() for the same groups (benchmarks/metafor_loop.R), both timed
   as whole processes. Our run also computes Q-profile CIs, Egger, trim-and-fill and
   leave-one-out for every group; the R loop only fits and predicts.
2. Agreement of the two on every group (max absolute difference).
3. `duiding render` of the full three-population report, cold (empty matplotlib cache,
   new kernels) and warm.
4. Scaling: `duiding check` on the evidence base replicated 10× and 100× (synthetic
   copies with new ids, in a temporary folder; never committed), and `duiding render`
   on the base replicated 10×.

Usage: python benchmarks/run.py [--groups 2000] [--k 8] [--repeats 3] [--skip-r] [--skip-render] [--skip-scaling]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def synthetic_batch(groups: int, k: int, seed: int = 20261123) -> pd.DataFrame:
    """Random-effects data with varied heterogeneity (seeded; no real studies)."""
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.2, (groups, k))
    tau = rng.uniform(0, 0.3, groups)
    yi = rng.normal(0.3, np.sqrt(vi + tau[:, None] ** 2))
    return pd.DataFrame(
        {
            "group": np.repeat(np.arange(groups), k),
            "study": np.tile([f"s{i}" for i in range(k)], groups),
            "yi": yi.ravel(),
            "vi": vi.ravel(),
        }
    )


def timed(cmd: list[str], out: Path | None = None) -> float:
    start = time.perf_counter()
    with open(out or "/dev/null", "w") as sink:
        subprocess.run(cmd, check=True, stdout=sink, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-r", action="store_true")
    parser.add_argument("--skip-render", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    duiding = shutil.which("duiding") or str(Path(sys.executable).parent / "duiding")
    _batch(args, duiding)
    if not args.skip_render:
        _render(duiding)
    if not args.skip_scaling:
        _scaling(duiding)


def _batch(args: argparse.Namespace, duiding: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "batch.csv"
        synthetic_batch(args.groups, args.k).to_csv(data, index=False)
        ours_json = Path(tmp) / "ours.json"
        cmd = [
            duiding,
            "pool",
            "--input",
            str(data),
            "--measure",
            "GEN",
            "--method",
            "REML",
            "--by",
            "group",
        ]
        runs = [timed(cmd, ours_json) for _ in range(args.repeats)]
        ours = statistics.median(runs)
        print(f"batch pooling, {args.groups} groups x {args.k} studies, REML, whole process:")
        print(f"  duiding pool --by: median {ours:.2f} s, {args.repeats} runs (min {min(runs):.2f} s)")
        per_group = 1000 * ours / args.groups
        print(f"  per group: {per_group:.2f} ms (fit, CIs, Egger, trim-and-fill, leave-one-out)")
        rscript = None if args.skip_r else shutil.which("Rscript")
        if rscript is None:
            print("  metafor loop: skipped (Rscript not installed; apt-get install r-cran-metafor)")
            return
        r_out = Path(tmp) / "metafor.csv"
        r_time = timed([rscript, str(HERE / "metafor_loop.R"), str(data), str(r_out)])
        print(f"  R loop over metafor::rma + predict: {r_time:.2f} s")
        print(f"  ratio duiding / metafor: {ours / r_time:.3f} (target: <= 0.1)")
        ours_records = json.loads(ours_json.read_text())
        print("  agreement with metafor at its default control settings, max |difference|:")
        _compare(ours_records, pd.read_csv(r_out))
        timed([rscript, str(HERE / "metafor_loop.R"), str(data), str(r_out), "tight"])
        print("  agreement with metafor converged to threshold 1e-12, max |difference|:")
        _compare(ours_records, pd.read_csv(r_out))


def _render(duiding: str) -> None:
    """Cold and warm renders of the real base, and the base replicated 10x (target: <= 2x)."""
    import os

    root = HERE.parent
    print("render, full three-population report (whole process):")
    with tempfile.TemporaryDirectory() as tmp:
        # cold: a new matplotlib cache (font list rebuilt) and new kernels; the bytecode pip
        # compiled at install time is used, as on a fresh machine after `make`.
        env = {**os.environ, "MPLCONFIGDIR": f"{tmp}/mpl"}

        def render(evidence: Path, out: str) -> float:
            cmd = [duiding, "render", "--quiet", "--evidence", str(evidence), "--grade", str(root / "grade")]
            start = time.perf_counter()
            subprocess.run([*cmd, "--out", out], check=True, env=env, stdout=subprocess.DEVNULL)
            return time.perf_counter() - start

        cold = render(root / "evidence", f"{tmp}/out")
        print(f"  cold (empty caches): {cold:.1f} s (target: <= 10 s on 2 cores)")
        warm = statistics.median(render(root / "evidence", f"{tmp}/out") for _ in range(2))
        print(f"  warm: {warm:.1f} s (median of 2)")
        manifest = json.loads(Path(f"{tmp}/out/manifest.json").read_text())
        print(f"  per notebook (last run): {manifest['notebook_seconds']}")
        big = Path(tmp) / "evidence10"
        big.mkdir()
        _replicate(root / "evidence", big, 10)
        studies = sum(len(pd.read_csv(f)) for f in big.glob("*/studies.csv"))
        ten = render(big, f"{tmp}/out10")
        print(f"  10x the evidence base ({studies} studies): {ten:.1f} s, {ten / warm:.2f}x warm (target: <= 2x)")


def _replicate(src: Path, dst: Path, times: int) -> None:
    """Copy the evidence base with every study and result repeated under new ids."""
    shutil.copy(src / "instruments.csv", dst / "instruments.csv")
    id_cols = {"study_id", "result_id", "harm_id", "record_id", "duplicate_of"}
    for folder in (p for p in src.iterdir() if p.is_dir()):
        (dst / folder.name).mkdir()
        for csv in folder.glob("*.csv"):
            frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
            copies = []
            for i in range(times):
                copy = frame.copy()
                for col in id_cols & set(copy.columns):
                    nonempty = copy[col] != ""
                    copy.loc[nonempty, col] = copy.loc[nonempty, col] + ("" if i == 0 else f"_r{i}")
                copies.append(copy)
            pd.concat(copies).to_csv(dst / folder.name / csv.name, index=False)


def _scaling(duiding: str) -> None:
    """`duiding check` as a whole process on the base and its 10x and 100x copies."""
    root = HERE.parent
    print("scaling: `duiding check` (whole process, median of 3) on the evidence base replicated:")
    base = None
    for times in (1, 10, 100):
        with tempfile.TemporaryDirectory() as tmp:
            ev_dir = Path(tmp) / "evidence"
            ev_dir.mkdir()
            _replicate(root / "evidence", ev_dir, times)
            studies = sum(len(pd.read_csv(f)) for f in ev_dir.glob("*/studies.csv"))
            results = sum(len(pd.read_csv(f)) for f in ev_dir.glob("*/results.csv"))
            cmd = [duiding, "check", "--evidence", str(ev_dir), "--grade", str(root / "grade")]
            t = statistics.median(timed(cmd) for _ in range(3))
            base = base or t
            target = " (target: <= 5x)" if times == 100 else ""
            print(f"  {times:>3}x ({studies:>5} studies, {results:>6} results): {t:6.2f} s, {t / base:5.2f}x{target}")


def _compare(ours: list[dict], theirs: pd.DataFrame) -> None:
    mine = pd.DataFrame(ours).set_index("group")
    mine.index = mine.index.astype(str)
    theirs = theirs.set_index(theirs["group"].astype(str))
    for col in ("estimate", "se", "tau2", "i2", "q", "pi_low", "pi_high"):
        diff = (mine[col].astype(float) - theirs.loc[mine.index, col].astype(float)).abs()
        print(f"    {col:<9} {diff.max():.2e}  (group {diff.idxmax()})")


if __name__ == "__main__":
    main()
