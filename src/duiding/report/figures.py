"""Forest plots (with risk-of-bias dots), funnel plots and risk-of-bias summaries.

Figures are returned as PNG bytes rendered without timestamps or software metadata, so
two renders of the same inputs give identical files.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from ..grade import StudyRob
from ..meta import MetaResult
from .text import num, p_value

ROB_COLOURS = {"low": "#2e8b57", "some": "#f2c12e", "unclear": "#f2c12e", "high": "#c0392b"}
NOT_ASSESSED = "#c8c8c8"
ROB_DOMAIN_SHORT = dict(
    randomisation="R",
    deviations="D",
    missing_data="M",
    measurement="Me",
    reporting="S",
    sequence_generation="R",
    allocation_concealment="A",
    blinding_participants="Bp",
    blinding_providers="Bt",
    blinding_outcome="Bo",
    incomplete_outcome="I",
    selective_reporting="S",
    other="O",
    total="PEDro",
    overall="O",
)
Z = 1.959963984540054


def _png(fig: plt.Figure, tight: bool = True) -> bytes:
    """PNG without metadata; ``tight=False`` skips the second layout pass (forest plots set their margins)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight" if tight else None, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _rob_colour(rob: StudyRob | None, domain: str) -> str:
    level = None if rob is None else rob.domain_level(domain)
    return NOT_ASSESSED if level is None else ROB_COLOURS[level]


def forest_plot(res: MetaResult, mid: float, robs: dict[str, StudyRob], title: str, scale_label: str) -> bytes:
    """Study estimates with 95% CIs and weights, the pooled diamond, the prediction interval,
    lines at 0 and at the clinical relevance threshold, and RoB dots per study."""
    sns.set_theme(style="white", font_scale=0.85)
    names, yi, vi, weights = res.studies, res.yi, res.vi, np.nan_to_num(res.weights)
    k = len(names)
    height = 1.3 + 0.38 * (k + 3)
    fig, ax = plt.subplots(figsize=(13.5, height))
    fig.subplots_adjust(left=0.15, right=0.66, top=1 - 0.45 / height, bottom=0.75 / height)
    ys = np.arange(k, 0, -1) + 1.5
    for y, est_i, v_i, w_i in zip(ys, yi, vi, weights, strict=True):
        half = Z * np.sqrt(v_i)
        ax.plot([est_i - half, est_i + half], [y, y], color="#333", lw=1)
        ax.scatter([est_i], [y], marker="s", s=20 + 2.2 * w_i, color="#1f4e79", zorder=3)
    est, lo, hi = res.estimate, res.ci_low, res.ci_high
    if np.isfinite(lo) and np.isfinite(hi):
        ax.fill([lo, est, hi, est], [0.9, 1.15, 0.9, 0.65], color="#1f4e79", zorder=3)
    pred = res.predict()
    if np.isfinite(pred.pi_low) and k > 1:
        ax.plot([pred.pi_low, pred.pi_high], [0.25, 0.25], color="#1f4e79", lw=2, alpha=0.6)
    ax.axvline(0, color="#555", lw=0.8)
    ax.axvline(-mid, color="#c0392b", lw=0.8, ls="--")
    ax.axvline(mid, color="#c0392b", lw=0.5, ls=":")
    ax.set_yticks([*ys, 0.9, 0.25])
    ax.set_yticklabels([*names, "Gepoold (95%-BI)", "Predictie-interval"] if k > 1 else [*names, "Gepoold", ""])
    ax.set_ylim(-0.2, k + 2.4)
    ax.set_xlabel(scale_label)
    ax.set_title(title, loc="left", fontsize=10)
    xmin, xmax = ax.get_xlim()
    ax.text(xmin, k + 2.1, "← in het voordeel van therapie", fontsize=8, color="#1f4e79", va="center")
    ax.text(xmax, k + 2.1, "in het voordeel van controle →", fontsize=8, color="#555", va="center", ha="right")
    ax.text(
        -mid, -0.15, f"−{num(mid, 0) if mid >= 1 else num(mid)}", fontsize=7, color="#c0392b", ha="center", va="top"
    )
    # right-hand columns: estimate (CI), weight, RoB dots
    trans = ax.get_yaxis_transform()
    ax.text(1.02, k + 2.1, "MD (95%-BI)", transform=trans, fontsize=8, va="center")
    ax.text(1.30, k + 2.1, "Gewicht", transform=trans, fontsize=8, va="center")
    ax.text(1.42, k + 2.1, "RoB", transform=trans, fontsize=8, va="center")
    for y, name, est_i, v_i, w_i in zip(ys, names, yi, vi, weights, strict=True):
        half = Z * np.sqrt(v_i)
        interval = f"{num(est_i)} ({num(est_i - half)}; {num(est_i + half)})"
        ax.text(1.02, y, interval, transform=trans, fontsize=8, va="center")
        ax.text(1.30, y, f"{num(w_i)}%", transform=trans, fontsize=8, va="center")
        rob = robs.get(name)
        domains = [""] if rob is None else list(rob.domains)
        for j, domain in enumerate(domains[:8]):
            colour = _rob_colour(rob, domain)
            ax.scatter(
                [1.42 + 0.025 * j], [y], transform=trans, s=30, color=colour, clip_on=False, edgecolors="#555", lw=0.3
            )
    ax.text(1.02, 0.9, f"{num(est)} ({num(lo)}; {num(hi)})", transform=trans, fontsize=8, va="center", weight="bold")
    sns.despine(ax=ax, left=True)
    return _png(fig, tight=False)


def funnel_plot(res: MetaResult, title: str) -> bytes:
    """Funnel plot (SE against estimate) with the pooled estimate and 95% pseudo-limits."""
    sns.set_theme(style="white", font_scale=0.85)
    yi, se = res.yi, np.sqrt(res.vi)
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    top = se.max() * 1.05
    est = res.estimate
    ax.plot([est - Z * top, est, est + Z * top], [top, 0, top], color="#888", lw=0.8, ls="--")
    ax.axvline(est, color="#1f4e79", lw=1)
    ax.scatter(yi, se, color="#1f4e79", s=25, zorder=3)
    ax.set_ylim(top, 0)
    ax.set_xlabel("Effect")
    ax.set_ylabel("Standaardfout")
    egger = res.regtest()
    extra = f" — Egger p = {p_value(egger.pval)}" if egger else ""
    ax.set_title(title + extra, loc="left", fontsize=10)
    sns.despine(ax=ax)
    return _png(fig)


def rob_summary(robs: dict[str, StudyRob], studies: list[str]) -> bytes | None:
    """Traffic-light table: studies × domains of the tool used, plus the overall judgement."""
    rated = [s for s in studies if s in robs]
    if not rated:
        return None
    sns.set_theme(style="white", font_scale=0.8)
    domains: list[str] = []
    for s in rated:
        for d in robs[s].domains:
            if d not in domains:
                domains.append(d)
    cols = [*domains, "oordeel"]
    fig, ax = plt.subplots(figsize=(1.6 + 0.55 * len(cols), 0.6 + 0.32 * len(rated)))
    for i, s in enumerate(rated):
        r = robs[s]
        for j, d in enumerate(domains):
            value = r.domains.get(d)
            colour = _rob_colour(r, d) if value is not None else "white"
            ax.scatter([j], [i], s=140, color=colour, edgecolors="#666", lw=0.4)
            if r.tool == "PEDro" and value is not None:
                ax.text(j, i, value, ha="center", va="center", fontsize=7)
        ax.scatter(
            [len(domains)], [i], s=140, color=ROB_COLOURS.get(r.overall, NOT_ASSESSED), edgecolors="#333", lw=0.8
        )
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels([ROB_DOMAIN_SHORT.get(c, c) for c in cols])
    ax.set_yticks(range(len(rated)))
    ax.set_yticklabels(rated)
    ax.set_xlim(-0.6, len(cols) - 0.4)
    ax.set_ylim(len(rated) - 0.5, -0.5)
    ax.xaxis.tick_top()
    sns.despine(ax=ax, left=True, bottom=True)
    return _png(fig)
