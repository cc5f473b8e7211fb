"""Parity plots of validation results (PNG, matplotlib's Agg backend): the shared log-log frame, and
the whole run's picture that `hwsim validate --plot` writes (published against hwsim per family)."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter  # noqa: E402

from hwsim.validate.runner import Row, Validation  # noqa: E402

MARKERS = "osD^vP*Xhp<>"   # with tab10's 10 colours, families 1-60 each get their own (marker, colour)
RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20, 50, 100)
CAPTION = ("Left: each row's published figure (x) against hwsim's (y), both in the row's own unit (ns, GB/s, "
           "cycles, tok/s, s, mJ, x, fraction), log-log; the line is y = x. Right: the same rows as hwsim / "
           "published, one column per family. Grey bar through a marker: that row's own tolerance band (the "
           "hwsim figures that pass, e.g. rel 15%, +-1 tCK, a published range; cut at the axis where one end is open); "
           "PASS is a filled marker, FAIL hollow; faint markers are INFO rows (context, never a pass or a "
           "failure). A target given as a range (e.g. 41-137x) is drawn at its midpoint; roofline_floor's "
           "published figure is the run's own roofline floor (PASS: at or above it). Not drawn: {hidden}.")


def parity_axes(ax, low: float, high: float, band: float | None = None) -> None:
    """Log-log axes over [low, high] with the line y = x and, given `band`, a shaded band of +-`band`
    around it (one tolerance shared by every point)."""
    ax.plot([low, high], [low, high], "k-", lw=0.8)
    if band is not None:
        ax.fill_between([low, high], [low * (1 - band), high * (1 - band)], [low * (1 + band), high * (1 + band)],
                        color="0.85", zorder=0)
    ax.set(xscale="log", yscale="log", xlim=(low, high))


def family_styles(families) -> list[tuple[str, tuple]]:
    """(marker, colour) of each family in order: markers and colours both cycle, so no family goes
    unmarked however many there are (zip with MARKERS alone dropped every family past the 12th)."""
    colours = plt.cm.tab10.colors
    return [(MARKERS[index % len(MARKERS)], colours[index % len(colours)]) for index, _ in enumerate(families)]


def band_bar(row: Row, floor: float, ceiling: float) -> tuple[float, float] | None:
    """The row's tolerance band as (low, high) hwsim figures clipped to the axis [floor, ceiling];
    None for a row without a band (INFO context, error statistics, PP not modelled)."""
    if row.band is None or row.info:
        return None
    low, high = row.band
    return max(low, floor), min(high, ceiling)


def drawn(row: Row) -> bool:
    """A row the parity plot can place: a published figure and hwsim's, both positive, of the same
    quantity (not an error statistic measured against a goal)."""
    return not row.statistic and row.published > 0 and math.isfinite(row.simulated) and row.simulated > 0


def hidden_text(validation: Validation) -> str:
    """What the plot leaves out, for its caption: rows per reason."""
    rows = [row for row in validation.rows if not drawn(row)]
    statistics = [row for row in rows if row.statistic]
    groups = [group for group, group_rows in validation.groups.items() if any(r.statistic for r in group_rows)]
    parts = [f"{len(statistics)} error-statistic rows ({', '.join(groups)}: |simulated / measured - 1| "
             "against a goal; docs/validation/gpu_kernels.md and vidur_parity.png show their kernels)"
             ] if statistics else []
    if len(rows) > len(statistics):
        parts.append(f"{len(rows) - len(statistics)} rows without a positive hwsim figure")
    return "; ".join(parts) or "nothing"


def _style(row: Row, colour) -> dict:
    if row.info:
        return {"color": colour, "alpha": 0.3, "s": 14}
    if row.passed:
        return {"color": colour, "s": 30}
    return {"facecolors": "none", "edgecolors": colour, "linewidths": 1.2, "s": 30}


def _decades(values) -> tuple[float, float]:
    return 10 ** math.floor(math.log10(min(values))), 10 ** math.ceil(math.log10(max(values)))


def _ratio_axis(ratios, values: list[float]) -> None:
    ratios.axhline(1, color="k", lw=0.8)
    ratios.set(yscale="log", ylim=(min(values + [1]) / 1.3, max(values + [1]) * 1.3))
    ratios.yaxis.set_major_locator(FixedLocator(RATIO_TICKS))
    ratios.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ratios.yaxis.set_minor_formatter(NullFormatter())


def validation_figure(validation: Validation):
    """Two panels (see CAPTION): published against hwsim, and hwsim / published by family, each row
    with its own tolerance band as a bar ("tolerance" line collections, one per panel)."""
    families = {group: [row for row in rows if drawn(row)] for group, rows in validation.groups.items()}
    families = {group: rows for group, rows in families.items() if rows}
    rows = [row for group_rows in families.values() for row in group_rows]
    fig, (parity, ratios) = plt.subplots(1, 2, figsize=(13, 5.6), gridspec_kw={"width_ratios": [1, 1.15]})
    parity_bars, ratio_bars = [], []
    if rows:
        ends = [(row, end) for row in rows if row.band and not row.info for end in row.band if 0 < end < math.inf]
        span = _decades([row.published for row in rows] + [row.simulated for row in rows] + [e for _, e in ends])
        parity_axes(parity, *span)
        parity.set(ylim=span, aspect="equal")
        _ratio_axis(ratios, [row.simulated / row.published for row in rows] + [e / row.published for row, e in ends])
    legend = []
    for index, ((group, group_rows), (marker, colour)) in enumerate(zip(families.items(), family_styles(families))):
        for offset, row in enumerate(group_rows):
            style = _style(row, colour)
            x = index + (offset / max(len(group_rows) - 1, 1) - 0.5) * 0.6
            parity.scatter(row.published, row.simulated, marker=marker, zorder=3, **style)
            ratios.scatter(x, row.simulated / row.published, marker=marker, zorder=3, **style)
            bar = band_bar(row, *parity.get_ylim())
            if bar:
                parity_bars.append((row.published, *bar))
                low, high = ratios.get_ylim()
                ratio_bars.append((x, *(end / row.published for end in band_bar(row, low * row.published,
                                                                                  high * row.published))))
        legend.append(Line2D([], [], marker=marker, color=colour, ls="", label=f"{group} ({len(group_rows)})"))
    for ax, bars in ((parity, parity_bars), (ratios, ratio_bars)):
        ax.vlines(*(zip(*bars) if bars else ([], [], [])), color="0.7", lw=3, zorder=1, gid="tolerance")
    parity.set(xlabel="published (each row in its own unit)", ylabel="hwsim (same unit)",
               title="published against hwsim")
    parity.legend(handles=legend, fontsize=8, loc="upper left", title="family (rows drawn)", title_fontsize=8)
    ratios.set_xticks(range(len(families)), list(families), rotation=25, ha="right", fontsize=8)
    ratios.set(xlim=(-0.6, len(families) - 0.4), ylabel="hwsim / published", title="hwsim / published by family")
    ratios.legend(handles=[Line2D([], [], marker="o", color="0.3", ls="", label="PASS"),
                           Line2D([], [], marker="o", mfc="none", mec="0.3", ls="", label="FAIL"),
                           Line2D([], [], marker="o", color="0.3", alpha=0.3, ls="", label="INFO"),
                           Line2D([], [], lw=3, color="0.7", label="row's tolerance")], fontsize=8, loc="best")
    fig.suptitle(f"hwsim validate: {validation.counts_text}", fontsize=11)
    fig.tight_layout()
    return fig


def validation_plot(validation: Validation, path: Path) -> None:
    """validation_figure as a PNG at `path`."""
    fig = validation_figure(validation)
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)
