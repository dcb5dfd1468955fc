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


def line_chart(points, *, width=480, height=180, left=48, bottom=24, top_pad=10):
    """A polyline of (label, value) points, with a y-axis from 0 to the largest value."""
    if not points:
        return None
    peak = max(value for _, value in points) or 1
    inner_w, inner_h = width - left - 8, height - bottom - top_pad
    step = inner_w / max(1, len(points) - 1)
    coords = []
    for index, (_, value) in enumerate(points):
        x = left + (index * step if len(points) > 1 else inner_w / 2)
        y = top_pad + inner_h - inner_h * value / peak
        coords.append((round(x, 1), round(y, 1)))
    ticks = [{"y": round(top_pad + inner_h - inner_h * f, 1), "label": round(peak * f)} for f in (0, 0.5, 1)]
    first, last = points[0][0], points[-1][0]
    return {
        "width": width,
        "height": height,
        "left": left,
        "baseline": top_pad + inner_h,
        "polyline": " ".join(f"{x},{y}" for x, y in coords),
        "dots": coords,
        "ticks": ticks,
        "first_label": first,
        "last_label": last,
        "label_y": height - 6,
        "right": width - 8,
    }
