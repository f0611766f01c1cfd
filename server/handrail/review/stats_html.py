"""`handrail stats --format html`: one self-contained file a team lead opens in any browser.

Inline CSS and inline SVG only: no script, no font, no image and no stylesheet is fetched, so
the report looks the same offline, attached to a CI run or mailed around. Every piece of text
from the repository (author names, paths) is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from handrail.review.stats import NO_GATE_RUNS, GateGroup, GateStats, GroupStats, Stats

_PASS = "#1a7f37"
_REWORK = "#cf222e"
_GRID = "#d0d7de"
_INK = "#24292f"
_MUTED = "#57606a"

_CSS = f"""
body {{ font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: {_INK};
  margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }}
h2 {{ font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid {_GRID}; }}
h3 {{ font-size: 1rem; margin-top: 1.2rem; }}
.sub {{ color: {_MUTED}; margin-top: 0; }}
.cards {{ display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }}
.card {{ border: 1px solid {_GRID}; border-radius: 6px; padding: .6rem .9rem; min-width: 9rem; }}
.card b {{ display: block; font-size: 1.5rem; }}
.card span {{ color: {_MUTED}; font-size: .85rem; }}
table {{ border-collapse: collapse; width: 100%; font-size: .9rem; }}
th, td {{ text-align: left; padding: .3rem .5rem; border-bottom: 1px solid {_GRID}; }}
td.n, th.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.legend {{ font-size: .85rem; color: {_MUTED}; }}
.swatch {{ display: inline-block; width: .8rem; height: .8rem; border-radius: 2px;
  vertical-align: -1px; margin: 0 .3rem 0 .8rem; }}
svg text {{ font: 12px system-ui, sans-serif; fill: {_MUTED}; }}
"""


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _hours(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def _legend(passed: str = "first-attempt pass rate", failed: str = "rework rate") -> str:
    return (
        '<p class="legend">'
        f'<span class="swatch" style="background:{_PASS}"></span>{passed}'
        f'<span class="swatch" style="background:{_REWORK}"></span>{failed}</p>'
    )


def _svg_open(label: str, width: int, height: int) -> str:
    return (
        f'<svg role="img" aria-label="{label}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    )


def trend_chart(weeks: list[GroupStats]) -> str:
    """Two lines over the weeks: first-attempt pass rate and rework rate (0-100 %)."""
    width, height = 720, 260
    left, right, top, bottom = 44, 44, 14, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [_svg_open("First-attempt pass rate and rework per week", width, height)]
    for tick in range(0, 101, 25):
        y = top + plot_h * (1 - tick / 100)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{_GRID}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}%</text>'
        )
    count = len(weeks)
    if count == 0:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle">'
            "no blocks in this period</text></svg>"
        )
        return "".join(parts)

    def x_of(i: int) -> float:
        return left + (plot_w / 2 if count == 1 else plot_w * i / (count - 1))

    every = max(1, count // 12)
    for i, week in enumerate(weeks):
        if i % every == 0 or i == count - 1:
            parts.append(
                f'<text x="{x_of(i):.1f}" y="{height - bottom + 18}" text-anchor="middle">'
                f"{escape(week.key)}</text>"
            )
    for colour, rates in (
        (_PASS, [w.first_attempt_pass_rate for w in weeks]),
        (_REWORK, [w.rework_rate for w in weeks]),
    ):
        points = [
            (x_of(i), top + plot_h * (1 - rate)) for i, rate in enumerate(rates) if rate is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
            )
        for x, y in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


def author_chart(authors: list[GroupStats]) -> str:
    """Per author, two horizontal bars: first-attempt pass rate and rework rate."""
    label_w, bar_w, row_h = 260, 400, 46
    width = label_w + bar_w + 70
    height = max(1, len(authors)) * row_h + 10
    parts = [_svg_open("First-attempt pass rate and rework per author", width, height)]
    if not authors:
        parts.append('<text x="10" y="24">no blocks in this period</text></svg>')
        return "".join(parts)
    for i, author in enumerate(authors):
        y = 6 + i * row_h
        # About 7 px a character at 12 px: longer names are cut so they never run under a bar.
        name = author.key if len(author.key) <= 34 else author.key[:33] + "…"
        parts.append(f'<text x="0" y="{y + 22}">{escape(name)}</text>')
        for j, (colour, rate) in enumerate(
            ((_PASS, author.first_attempt_pass_rate), (_REWORK, author.rework_rate))
        ):
            bar_y = y + 4 + j * 18
            length = bar_w * (rate or 0.0)
            parts.append(
                f'<rect x="{label_w}" y="{bar_y}" width="{bar_w}" height="14" fill="#f6f8fa"/>'
                f'<rect x="{label_w}" y="{bar_y}" width="{length:.1f}" height="14" '
                f'fill="{colour}"/>'
                f'<text x="{label_w + bar_w + 6}" y="{bar_y + 12}">{_pct(rate)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def gate_chart(weeks: list[GateGroup]) -> str:
    """Per week, one bar of gate runs: failed runs (bottom, red) under passed runs (green)."""
    width, height = 720, 220
    left, right, top, bottom = 44, 44, 14, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [_svg_open("Gate runs per week, failed and passed", width, height)]
    most = max((w.runs for w in weeks), default=0)
    # A round top for the axis: 4 ticks of a whole number of runs each.
    step = max(1, -(-most // 4))
    scale = step * 4
    for i in range(5):
        value = step * i
        y = top + plot_h * (1 - value / scale)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{_GRID}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    count = len(weeks)
    if count == 0:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle">'
            "no gate runs in this period</text></svg>"
        )
        return "".join(parts)
    slot = plot_w / count
    bar = min(48.0, slot * 0.7)
    every = max(1, count // 12)
    for i, week in enumerate(weeks):
        x = left + slot * i + (slot - bar) / 2
        failed_h = plot_h * week.failures / scale
        passed_h = plot_h * (week.runs - week.failures) / scale
        base = top + plot_h
        parts.append(
            f'<rect x="{x:.1f}" y="{base - failed_h:.1f}" width="{bar:.1f}" '
            f'height="{failed_h:.1f}" fill="{_REWORK}"/>'
            f'<rect x="{x:.1f}" y="{base - failed_h - passed_h:.1f}" width="{bar:.1f}" '
            f'height="{passed_h:.1f}" fill="{_PASS}"/>'
            f'<text x="{x + bar / 2:.1f}" y="{base - failed_h - passed_h - 4:.1f}" '
            f'text-anchor="middle">{week.failures}/{week.runs}</text>'
        )
        if i % every == 0 or i == count - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 18}" text-anchor="middle">'
                f"{escape(week.key)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _gate_table(title: str, groups: list[GateGroup]) -> str:
    head = (
        f"<tr><th>{escape(title)}</th><th class=n>gate runs</th><th class=n>failed</th>"
        "<th class=n>failure rate</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{escape(g.key)}</td><td class=n>{g.runs}</td><td class=n>{g.failures}</td>"
        f"<td class=n>{_pct(g.failure_rate)}</td></tr>"
        for g in groups
    )
    return f"<table>{head}{rows}</table>"


def _gate_section(gate: GateStats) -> str:
    out = ["<h2>Gate failures (<code>handrail check</code>)</h2>"]
    if not gate.recorded:
        out.append(
            f"<p>{escape(NO_GATE_RUNS[0].upper() + NO_GATE_RUNS[1:])}: run "
            "<code>handrail check --record-gate</code> in CI and fetch "
            "<code>refs/notes/handrail-gate</code>.</p>"
        )
    else:
        out.append(
            f"<p class=sub>Of {gate.total.runs} recorded gate run"
            f"{'s' if gate.total.runs != 1 else ''}, {gate.total.failures} failed "
            f"({_pct(gate.total.failure_rate)}). Failures should become rare as blocks get "
            "verified before they are pushed.</p>"
        )
        out.append(_legend("gate passed", "gate failed") + gate_chart(gate.per_week))
        if gate.per_week:
            out.append(_gate_table("week", gate.per_week))
            out.append("<h3>Per author of the checked commit</h3>")
            out.append(_gate_table("author", gate.per_author))
        if gate.failing_codes:
            codes = ", ".join(
                f"<code>{escape(code)}</code> ×{n}" for code, n in gate.failing_codes[:8]
            )
            out.append(f"<p>Errors that failed the gate most: {codes}.</p>")
    if gate.malformed:
        items = "".join(
            f"<li>{escape(m.message()[0].upper() + m.message()[1:])}</li>"
            for m in gate.malformed[:20]
        )
        more = len(gate.malformed) - 20
        extra = f"<li>and {more} more</li>" if more > 0 else ""
        out.append(f"<p>Skipped malformed gate records:</p><ul>{items}{extra}</ul>")
    return "".join(out)


def _agent_section(groups: list[GroupStats]) -> str:
    """Blocks per coding agent and model; nothing when no agent marked a block."""
    if not groups:
        return ""
    return f"<h2>Per coding agent (and model)</h2>{_table('agent (model)', groups)}"


def _table(title: str, groups: list[GroupStats]) -> str:
    head = (
        f"<tr><th>{escape(title)}</th><th class=n>blocks</th><th class=n>first-attempt pass</th>"
        "<th class=n>rework</th><th class=n>median to verified</th>"
        "<th class=n>failed runs</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{escape(g.key)}</td><td class=n>{g.blocks}</td>"
        f"<td class=n>{_pct(g.first_attempt_pass_rate)} ({g.first_attempt_passed}/"
        f"{g.first_attempts})</td><td class=n>{_pct(g.rework_rate)} ({g.reworked}/{g.verified})"
        f"</td><td class=n>{_hours(g.median_hours_to_verified)}</td>"
        f"<td class=n>{g.failed_runs}</td></tr>"
        for g in groups
    )
    return f"<table>{head}{rows}</table>"


def render_html(stats: Stats, *, title: str = "Handrail: is the workflow working?") -> str:
    """The whole report as one HTML document."""
    t = stats.total
    since = f"Blocks marked since {stats.since.isoformat()}." if stats.since else "All history."
    cards = [
        (_pct(t.first_attempt_pass_rate), "first-attempt pass rate"),
        (_pct(t.rework_rate), "rework"),
        (_hours(t.median_hours_to_verified), "median marking → verified"),
        (str(len(stats.backlog)), "unverified backlog"),
        (f"{stats.failed_runs}/{stats.runs}", "failed runs"),
        (str(t.blocks), "generated blocks"),
        (
            f"{stats.gate.total.failures}/{stats.gate.total.runs}"
            if stats.gate.recorded
            else "none recorded",
            "gate failures",
        ),
    ]
    card_html = "".join(
        f'<div class="card"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for v, k in cards
    )
    if stats.backlog:
        backlog = "<table><tr><th>block</th><th>where</th><th>status</th><th>author</th></tr>"
        backlog += "".join(
            f"<tr><td><code>{escape(b.block_id)}</code></td>"
            f"<td><code>{escape(b.path)}:{b.line}</code></td><td>{escape(b.status)}</td>"
            f"<td>{escape(b.author)}</td></tr>"
            for b in stats.backlog
        )
        backlog += "</table>"
    else:
        backlog = "<p>Every block in the work tree is verified.</p>"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><p class=sub>{escape(since)} First-attempt pass rate should "
        "go up and rework down as specs and context get better.</p>"
        f'<div class="cards">{card_html}</div>'
        "<h2>Trend per week of marking</h2>"
        f"{_legend()}{trend_chart(stats.per_week)}"
        f"{_table('week', stats.per_week)}"
        "<h2>Per author</h2>"
        f"{_legend()}{author_chart(stats.per_author)}"
        f"{_table('author', stats.per_author)}"
        f"{_agent_section(stats.per_agent)}"
        f"{_gate_section(stats.gate)}"
        f"<h2>Unverified backlog</h2>{backlog}"
        "</body></html>\n"
    )
