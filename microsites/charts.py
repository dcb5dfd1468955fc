"""Geometry for the server-rendered SVG charts (no chart library, no JavaScript, no CDN).

Each function returns plain numbers for the template to draw; every chart also has its numbers
in a table beside it and a CSV export.
"""


def bar_chart(rows, *, width=420, bar_x=130, bar_height=16, gap=6):
    """One horizontal bar per district, scaled to the highest coverage (room on the right for the label)."""
    top = max((row.coverage_percent or 0 for row in rows), default=0) or 1
    room = width - bar_x - 75
    bars = []
    for index, row in enumerate(rows):
        y = index * (bar_height + gap)
        length = round(room * (row.coverage_percent or 0) / top, 1)
        bars.append(
            {
                "label": row.local_name,
                "value": row.coverage_percent,
                "y": y,
                "width": length,
                "text_y": y + bar_height - 4,
                "value_x": bar_x + length + 6,
            }
        )
    return {
        "bars": bars,
        "width": width,
        "height": max(1, len(rows) * (bar_height + gap)),
        "bar_x": bar_x,
        "bar_height": bar_height,
    }


def column_chart(points, *, width=720, height=200, left=48, bottom=24, top_pad=10, right_pad=8):
    """One column per (period, value) point, in order, every period present (zeros included), with a y-axis
    from 0 to the largest value: a time series that reads as one even with a single non-zero period."""
    if not points:
        return None
    peak = max(value for _, value in points) or 1
    inner_w, inner_h = width - left - right_pad, height - bottom - top_pad
    slot = inner_w / len(points)
    gap = min(2.0, slot * 0.2)
    baseline = top_pad + inner_h
    columns = []
    for index, (period, value) in enumerate(points):
        column_height = round(inner_h * value / peak, 1)
        columns.append(
            {
                "period": period,
                "value": value,
                "x": round(left + index * slot + gap / 2, 1),
                "y": round(baseline - column_height, 1),
                "width": round(max(slot - gap, 0.5), 1),
                "height": column_height,
            }
        )
    ticks = [{"y": round(baseline - inner_h * f, 1), "label": round(peak * f)} for f in (0, 0.5, 1)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right_pad,
        "baseline": baseline,
        "columns": columns,
        "ticks": ticks,
        "first_label": points[0][0],
        "last_label": points[-1][0],
        "label_y": height - 6,
    }
