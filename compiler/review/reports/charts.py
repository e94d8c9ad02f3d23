"""Geometry of the inline SVG charts of the HTML diff report (the template only draws)."""
from __future__ import annotations

WIDTH = 560
HEIGHT = 180
MARGIN_LEFT = 40
MARGIN_BOTTOM = 36
MARGIN_TOP = 12
GAP = 4


def histogram_svg(histogram) -> dict:
    """Bars for before (left of each pair) and after, with readable axes: the bin edges under
    the bars (the last bin includes its upper edge), counts on a y axis with gridlines, and
    the axis titles."""
    bins = histogram.bins
    peak = _nice_peak(max([max(b.before, b.after) for b in bins] + [1]))
    plot_width = WIDTH - MARGIN_LEFT - 16
    plot_height = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    slot = plot_width / max(len(bins), 1)
    bar = max((slot - GAP) / 2, 1)
    last = len(bins) - 1
    bars, labels = [], []
    for index, band in enumerate(bins):
        x = MARGIN_LEFT + index * slot
        closing = "]" if index == last else ")"
        for offset, count, kind in ((GAP / 2, band.before, "before"),
                                    (GAP / 2 + bar, band.after, "after")):
            height = plot_height * count / peak
            bars.append({"x": _r(x + offset), "y": _r(MARGIN_TOP + plot_height - height),
                         "width": _r(bar), "height": _r(height), "kind": kind,
                         "title": f"[{band.low}, {band.high}{closing}: {count} {kind}"})
        labels.append({"x": _r(x), "y": HEIGHT - MARGIN_BOTTOM + 14, "text": str(band.low)})
    if bins:
        labels.append({"x": _r(MARGIN_LEFT + len(bins) * slot),
                       "y": HEIGHT - MARGIN_BOTTOM + 14, "text": str(bins[-1].high)})
    ticks = [{"y": _r(MARGIN_TOP + plot_height - plot_height * value / peak),
              "text": str(value)} for value in _ticks(peak)]
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "labels": labels, "ticks": ticks,
            "axis_y": MARGIN_TOP + plot_height, "axis_x1": MARGIN_LEFT,
            "axis_x2": WIDTH - 16, "legend_y": HEIGHT - 6,
            "x_title": f"{histogram.score} (bins)", "x_title_x": WIDTH - 16,
            "y_title": "contacts", "title": f"{histogram.score}: before and after"}


def _nice_peak(value: int) -> int:
    """The smallest 1, 2, 5 x 10^n at or above `value`: round numbers on the y axis."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= value:
                return step * scale
        scale *= 10


def _ticks(peak: int) -> list[int]:
    return [0, peak // 2, peak] if peak >= 2 and peak % 2 == 0 else [0, peak]


def _r(value: float) -> float:
    return round(value, 1)


LINE_WIDTH = 560
LINE_HEIGHT = 150


def line_svg(series, periods) -> dict:
    """Two lines (old, new) of counts per period, with the y axis from 0 to the peak and the
    first, middle and last periods named on the x axis."""
    count = len(periods)
    peak = _nice_peak(max(list(series.old) + list(series.new) + [1]))
    plot_width = LINE_WIDTH - MARGIN_LEFT - 16
    plot_height = LINE_HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    step = plot_width / max(count - 1, 1)

    def points(values) -> str:
        return " ".join(f"{_r(MARGIN_LEFT + i * step)},"
                        f"{_r(MARGIN_TOP + plot_height - plot_height * v / peak)}"
                        for i, v in enumerate(values))

    named = sorted({0, count // 2, count - 1}) if count else []
    labels = [{"x": _r(MARGIN_LEFT + i * step), "y": LINE_HEIGHT - MARGIN_BOTTOM + 14,
               "text": periods[i],
               "anchor": "start" if i == 0 and count > 1 else "end" if i == count - 1 and
               count > 1 else "middle"} for i in named]
    ticks = [{"y": _r(MARGIN_TOP + plot_height - plot_height * value / peak),
              "text": str(value)} for value in _ticks(peak)]
    dots = [{"x": _r(MARGIN_LEFT + i * step),
             "y": _r(MARGIN_TOP + plot_height - plot_height * new / peak),
             "title": f"{periods[i]}: {old} old, {new} new"}
            for i, (old, new) in enumerate(zip(series.old, series.new))]
    return {"width": LINE_WIDTH, "height": LINE_HEIGHT, "old": points(series.old),
            "new": points(series.new), "labels": labels, "dots": dots, "peak": peak,
            "ticks": ticks,
            "axis_y": MARGIN_TOP + plot_height, "axis_x1": MARGIN_LEFT,
            "axis_x2": LINE_WIDTH - 16, "legend_y": LINE_HEIGHT - 6,
            "title": f"{series.name} per period: old and new", "name": series.name}
