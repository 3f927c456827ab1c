"""Forest plots (with risk-of-bias dots), funnel plots and risk-of-bias summaries, drawn with
matplotlib.

Figures are returned as PNG bytes rendered without timestamps or software metadata, so
two renders of the same inputs give identical files.
"""

from __future__ import annotations

import io
import itertools
from weakref import WeakKeyDictionary

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ..grade import StudyRob
from ..meta import MetaResult
from .text import num, p_value, shortest

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


def _theme(scale: float) -> None:
    """A plain white style (seaborn's "white" theme, without importing seaborn: it imports
    scipy.stats, a second per notebook)."""
    size = 11 * scale
    plt.rcParams.update(
        {
            "axes.facecolor": "white",
            "figure.facecolor": "white",
            "axes.grid": False,
            "axes.edgecolor": "#333333",
            "axes.labelcolor": "#262626",
            "text.color": "#262626",
            "xtick.color": "#262626",
            "ytick.color": "#262626",
            "font.size": size,
            "axes.labelsize": size,
            "axes.titlesize": size,
            "xtick.labelsize": size * 0.91,
            "ytick.labelsize": size * 0.91,
            "legend.fontsize": size * 0.91,
            "xtick.major.size": 0,
            "ytick.major.size": 0,
        }
    )


def _despine(ax: plt.Axes, left: bool = False, bottom: bool = False) -> None:
    """Only the axes lines that carry information (seaborn's ``despine``)."""
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.spines["left"].set_visible(not left)
    ax.spines["bottom"].set_visible(not bottom)


def _dutch_tick(value: float, _position: int) -> str:
    """Axis numbers in the report's style: decimal comma, real minus sign."""
    return shortest(round(value, 10))


def _png(fig: plt.Figure, tight: bool = True) -> bytes:
    """PNG without metadata, axis numbers in Dutch style; ``tight=False`` skips the second
    layout pass (forest plots set their margins)."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), ScalarFormatter):  # numbers, not study names
                axis.set_major_formatter(FuncFormatter(_dutch_tick))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight" if tight else None, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _rob_colour(rob: StudyRob | None, domain: str) -> str:
    level = None if rob is None else rob.domain_level(domain)
    return NOT_ASSESSED if level is None else ROB_COLOURS[level]


_DRAWN: WeakKeyDictionary[MetaResult, dict[tuple, bytes]] = WeakKeyDictionary()


def forest_plot(
    res: MetaResult, mid: float, robs: dict[str, StudyRob], title: str, scale_label: str, pooled: bool = True
) -> bytes:
    """Study estimates with 95% CIs and weights, the pooled diamond, the prediction interval,
    lines at 0 and at the clinical relevance threshold, and RoB dots per study. With
    ``pooled`` False (two heterogeneous studies the plan does not pool) the studies stand
    alone: no diamond, no prediction interval.

    A plot is drawn once per fit and arguments: the notebook shows it, and the report's
    section takes the same bytes."""
    rob_key = tuple(sorted((s, r.overall, tuple(r.domains.items())) for s, r in robs.items()))
    key = (mid, title, scale_label, rob_key, pooled)
    drawn = _DRAWN.setdefault(res, {})
    if key not in drawn:
        drawn[key] = _forest_plot(res, mid, robs, title, scale_label, pooled)
    return drawn[key]


def _forest_plot(
    res: MetaResult, mid: float, robs: dict[str, StudyRob], title: str, scale_label: str, pooled: bool
) -> bytes:
    _theme(0.85)
    names, yi, vi, weights = res.studies, res.yi, res.vi, np.nan_to_num(res.weights)
    k = len(names)
    height = 1.3 + 0.38 * (k + 3)
    fig, ax = plt.subplots(figsize=(13.5, height))
    fig.subplots_adjust(left=0.15, right=0.66, top=1 - 0.45 / height, bottom=0.75 / height)
    ys = np.arange(k, 0, -1) + 1.5
    halves = Z * np.sqrt(vi)
    ax.hlines(ys, yi - halves, yi + halves, color="#333", lw=1)  # one call per layer: drawing is the cost
    ax.scatter(yi, ys, marker="s", s=20 + 2.2 * weights, color="#1f4e79", zorder=3)
    est, lo, hi = res.estimate, res.ci_low, res.ci_high
    if pooled and np.isfinite(lo) and np.isfinite(hi):
        ax.fill([lo, est, hi, est], [0.9, 1.15, 0.9, 0.65], color="#1f4e79", zorder=3)
    pred = res.predict()
    if pooled and np.isfinite(pred.pi_low) and k > 1:
        ax.plot([pred.pi_low, pred.pi_high], [0.25, 0.25], color="#1f4e79", lw=2, alpha=0.6)
    ax.axvline(0, color="#555", lw=0.8)
    ax.axvline(-mid, color="#c0392b", lw=0.8, ls="--")
    ax.axvline(mid, color="#c0392b", lw=0.5, ls=":")
    ax.set_yticks([*ys, 0.9, 0.25])
    if not pooled:
        ax.set_yticklabels([*names, "Niet gepoold", ""])
    else:
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
    dots_x, dots_y, dots_c = [], [], []
    for y, name, est_i, half, w_i in zip(ys, names, yi, halves, weights, strict=True):
        interval = f"{num(est_i)} ({num(est_i - half)} tot {num(est_i + half)})"
        ax.text(1.02, y, interval, transform=trans, fontsize=8, va="center")
        if pooled:
            ax.text(1.30, y, f"{num(w_i)}%", transform=trans, fontsize=8, va="center")
        rob = robs.get(name)
        domains = [""] if rob is None else list(rob.domains)
        for j, domain in enumerate(domains[:8]):
            dots_x.append(1.42 + 0.025 * j)
            dots_y.append(y)
            dots_c.append(_rob_colour(rob, domain))
    ax.scatter(dots_x, dots_y, transform=trans, s=30, c=dots_c, clip_on=False, edgecolors="#555", lw=0.3)
    if pooled:
        summary = f"{num(est)} ({num(lo)} tot {num(hi)})"
        ax.text(1.02, 0.9, summary, transform=trans, fontsize=8, va="center", weight="bold")
    _despine(ax, left=True)
    return _png(fig, tight=False)


CONTOURS = ((0.10, "#f0f0f0"), (0.05, "#d9d9d9"), (0.01, "#bdbdbd"))  # two-sided p, shade


def funnel_plot(res: MetaResult, title: str) -> bytes:
    """Contour-enhanced funnel plot (Peters et al. 2008): standard error against estimate,
    with regions where a study's own result would be significant at p < 0,10, 0,05 and
    0,01 (centred on zero, as metafor's ``funnel(..., level = c(90, 95, 99), refline = 0)``),
    and the pooled estimate. Asymmetry that sits in the significant regions points at
    publication bias; asymmetry elsewhere at other small-study effects."""
    _theme(0.85)
    yi, se = res.yi, np.sqrt(res.vi)
    fig, ax = plt.subplots(figsize=(6.0, 4.4))
    top = se.max() * 1.08
    grid = np.linspace(0, top, 50)
    width = max(np.abs(yi).max(), special_z(0.01) * top) * 1.1
    ax.fill_betweenx(grid, -width, width, color="white")
    for p, shade in CONTOURS:
        z = special_z(p)
        ax.fill_betweenx(grid, -width, -z * grid, color=shade, lw=0)
        ax.fill_betweenx(grid, z * grid, width, color=shade, lw=0)
    ax.axvline(0, color="#555", lw=0.8)
    ax.axvline(res.estimate, color="#1f4e79", lw=1.2)
    ax.scatter(yi, se, color="#1f4e79", s=25, zorder=3, edgecolors="white", lw=0.4)
    ax.set_xlim(-width, width)
    ax.set_ylim(top, 0)
    ax.set_xlabel("Effect (negatief = voordeel therapie)")
    ax.set_ylabel("Standaardfout")
    from matplotlib.patches import Patch

    handles = [Patch(color="white", ec="#999", label="p ≥ 0,10")]
    handles += [Patch(color=shade, label=f"p < {num(p, 2)}") for p, shade in CONTOURS]
    ax.legend(handles=handles, fontsize=7, loc="lower right", frameon=True)
    egger = res.regtest()
    extra = f" — Egger p = {p_value(egger.pval)}" if egger and np.isfinite(egger.pval) else ""
    ax.set_title(title + extra, loc="left", fontsize=10)
    _despine(ax)
    return _png(fig)


def special_z(p: float) -> float:
    """Two-sided normal critical value for p (0,05 → 1,96)."""
    from scipy.special import ndtri

    return float(-ndtri(p / 2))


def cumulative_plot(res: MetaResult, years: list[float], title: str, mid: float) -> bytes:
    """Cumulative meta-analysis (metafor's ``cumul`` ordered by publication year): the pooled
    estimate and its 95% CI after each study is added, oldest first."""
    _theme(0.85)
    cu = res.cumul(years)
    order = np.argsort(np.asarray(years, dtype=float), kind="stable")
    k = len(order)
    height = 1.0 + 0.32 * (k + 1)
    fig, ax = plt.subplots(figsize=(9.5, height))
    fig.subplots_adjust(left=0.28, right=0.78, top=1 - 0.4 / height, bottom=0.6 / height)
    ys = np.arange(k, 0, -1)
    for y, i in zip(ys, order, strict=True):
        ax.plot([cu.ci_low[i], cu.ci_high[i]], [y, y], color="#333", lw=1)
        ax.scatter([cu.estimate[i]], [y], marker="D", s=24, color="#1f4e79", zorder=3)
    ax.axvline(0, color="#555", lw=0.8)
    ax.axvline(-mid, color="#c0392b", lw=0.8, ls="--")
    ax.set_yticks(ys)
    labels = [f"+ {res.studies[i]} ({years[i]:.0f})" for i in order]
    ax.set_yticklabels(labels)
    ax.set_ylim(0.3, k + 0.7)
    ax.set_xlabel("Gepoold gemiddeld verschil op 0-100 na toevoegen van de studie (95%-BI)")
    ax.set_title(title, loc="left", fontsize=10)
    trans = ax.get_yaxis_transform()
    for y, i in zip(ys, order, strict=True):
        text = f"{num(cu.estimate[i])} ({num(cu.ci_low[i])}; {num(cu.ci_high[i])})"
        ax.text(1.02, y, text, transform=trans, fontsize=8, va="center")
    _despine(ax, left=True)
    return _png(fig, tight=False)


def baujat_plot(res: MetaResult, title: str) -> bytes:
    """Baujat plot (Baujat et al. 2002; metafor's ``baujat``): each study's contribution to
    the heterogeneity (x) against its influence on the pooled estimate (y)."""
    _theme(0.85)
    inf = res.influence()
    assert inf is not None
    fig, ax = plt.subplots(figsize=(6.0, 4.4))
    colours = np.where(inf.influential, "#c0392b", "#1f4e79")
    ax.scatter(inf.baujat_x, inf.baujat_y, s=28, c=colours, zorder=3)
    for x, y, name in zip(inf.baujat_x, inf.baujat_y, res.studies, strict=True):
        ax.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("Bijdrage aan de heterogeniteit (Q)")
    ax.set_ylabel("Invloed op de gepoolde schatting")
    ax.set_title(title, loc="left", fontsize=10)
    _despine(ax)
    return _png(fig)


def rob_summary(robs: dict[str, StudyRob], studies: list[str]) -> bytes | None:
    """Traffic-light table: studies × domains of the tool used, plus the overall judgement."""
    rated = [s for s in studies if s in robs]
    if not rated:
        return None
    _theme(0.8)
    domains: list[str] = []
    for s in rated:
        for d in robs[s].domains:
            if d not in domains:
                domains.append(d)
    cols = [*domains, "oordeel"]
    fig, ax = plt.subplots(figsize=(1.6 + 0.55 * len(cols), 0.6 + 0.32 * len(rated)))
    xs, ys, colours = [], [], []
    for i, s in enumerate(rated):
        r = robs[s]
        for j, d in enumerate(domains):
            value = r.domains.get(d)
            xs.append(j)
            ys.append(i)
            colours.append(_rob_colour(r, d) if value is not None else "white")
            if r.tool == "PEDro" and value is not None:
                ax.text(j, i, value, ha="center", va="center", fontsize=7)
    ax.scatter(xs, ys, s=140, c=colours, edgecolors="#666", lw=0.4)  # one collection: drawing is the cost
    overall = [ROB_COLOURS.get(robs[s].overall, NOT_ASSESSED) for s in rated]
    ax.scatter([len(domains)] * len(rated), range(len(rated)), s=140, c=overall, edgecolors="#333", lw=0.8)
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels([ROB_DOMAIN_SHORT.get(c, c) for c in cols])
    ax.set_yticks(range(len(rated)))
    ax.set_yticklabels(rated)
    ax.set_xlim(-0.6, len(cols) - 0.4)
    ax.set_ylim(len(rated) - 0.5, -0.5)
    ax.xaxis.tick_top()
    _despine(ax, left=True, bottom=True)
    return _png(fig)


def prisma_flow(counts: dict, words: dict[str, dict[str, str]], title: str) -> bytes:
    """The PRISMA 2020 flow diagram of one population's screening log (Page et al., BMJ
    2021;372:n71): records identified per source, duplicates, screened, excluded, sought,
    not retrieved, assessed, excluded with reasons, included. ``words`` holds the Dutch
    labels of the sources and of the exclusion reasons."""
    from matplotlib.patches import FancyBboxPatch

    _theme(0.8)
    fig, ax = plt.subplots(figsize=(9.5, 7.2))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.axis("off")
    sources, reasons = words["screening_sources"], words["screening_reasons"]
    identified = "\n".join(f"{sources.get(k, k)}: {v}" for k, v in counts["identified"].items()) or "geen"
    excluded_ft = "\n".join(f"{reasons.get(k, k)}: {v}" for k, v in counts["excluded_full_text"].items()) or "geen"
    left = [
        (9.0, f"Records gevonden (n = {sum(counts['identified'].values())})\n{identified}"),
        (6.9, f"Records gescreend\n(n = {counts['screened']})"),
        (5.0, f"Rapporten gezocht\n(n = {counts['sought']})"),
        (3.1, f"Rapporten beoordeeld op geschiktheid\n(n = {counts['assessed']})"),
        (1.0, f"Geïncludeerd: {counts['included_studies']} studies\n({counts['included_reports']} rapporten)"),
    ]
    right = [
        (9.0, f"Dubbele records verwijderd\n(n = {counts['duplicates']})"),
        (6.9, f"Records uitgesloten\n(n = {counts['excluded_screening']})"),
        (5.0, f"Rapporten niet gevonden\n(n = {counts['not_retrieved']})"),
        (3.1, f"Rapporten uitgesloten (n = {sum(counts['excluded_full_text'].values())})\n{excluded_ft}"),
    ]
    for x, boxes in ((2.6, left), (7.6, right)):
        for y, text in boxes:
            half = max(0.75, 0.14 * (text.count("\n") + 1) + 0.15)
            ax.add_patch(
                FancyBboxPatch(
                    (x - 2.2, y - half), 4.4, 2 * half, boxstyle="round,pad=0.05", fc="#f4f7fa", ec="#1f4e79", lw=0.8
                )
            )
            ax.text(x, y, text, ha="center", va="center", fontsize=7.5, wrap=True)
    arrow = {"arrowstyle": "->", "color": "#1f4e79", "lw": 0.8}
    for (y0, _), (y1, _) in itertools.pairwise(left):
        ax.annotate("", xy=(2.6, y1 + 0.78), xytext=(2.6, y0 - 0.78), arrowprops=arrow)
    for y, _ in right:
        ax.annotate("", xy=(5.35, y), xytext=(4.85, y), arrowprops=arrow)
    ax.set_title(title, loc="left", fontsize=9)
    return _png(fig)
