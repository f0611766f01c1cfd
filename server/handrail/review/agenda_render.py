"""The review agenda as text (terminal), Markdown (the meeting doc) and HTML (with charts).

Text and Markdown are the same outline; the HTML reuses `stats_html`'s style and charts, so the
agenda and `handrail stats --format html` look alike. A figure over a small sample is printed
with its counts and "small sample", and no chart is drawn for a trend the data cannot carry.
Every piece of text from the repository (names, paths, notes) is escaped in Markdown and HTML.
"""

from __future__ import annotations

import re
from html import escape

from handrail.codes import CODES
from handrail.ledger.records import Note
from handrail.review.agenda import (
    NEW_DEVELOPER_DAYS,
    SMALL_SAMPLE,
    TREND_MIN_BLOCKS,
    TREND_MIN_WEEKS,
    Agenda,
    Rate,
    first_pass,
    rework,
)
from handrail.review.stats_html import _CSS, _legend, author_chart, gate_chart, trend_chart

TITLE = "Workflow review"

_TREND_WORDS = {
    "down": "Rework is going down (good)",
    "up": "Rework is going UP",
    "flat": "Rework is flat",
    "too few": (
        f"Too few blocks to call a trend in rework (it needs {TREND_MIN_WEEKS} weeks with "
        f"verified blocks and {TREND_MIN_BLOCKS} verified blocks)"
    ),
}
_TREND_CARD = {"down": "going down", "up": "going UP", "flat": "flat", "too few": "too few data"}


def _note_line(note: Note) -> str:
    word = "helped" if note.verdict == "helped" else "in the way"
    where = f" {note.path}:{note.line}" if note.path and note.line else ""
    where = f" {note.path}" if note.path and not note.line else where
    who = note.author or "unknown"
    said = f" — {note.text}" if note.text else ""
    answered = f" (answered by the {note.answered_by})" if note.answered_by else ""
    return f"[{word}]{where}{said}{answered} ({who}, {note.at.date().isoformat()}, {note.source})"


def _outline(agenda: Agenda, *, md: bool) -> list[str]:
    """The agenda as lines: Markdown when `md`, plain text otherwise."""

    def h(level: int, text: str) -> str:
        if md:
            return f"{'#' * level} {text}"
        return text.upper() if level == 2 else text

    def cell(text: str) -> str:
        return _md(text) if md else text

    s = agenda.stats.total
    out = [h(1, f"{TITLE}: {agenda.period.label()}")]
    out.append(
        f"Prepared {agenda.generated.isoformat()}"
        + (f" for the workflow's owner, {cell(agenda.owner)}." if agenda.owner else ".")
        + " Bring examples; decide what to change; then record the meeting with "
        + "`handrail workflow reviewed --attendee ... --changed ...`."
    )

    out += ["", h(2, f"1. Notes from the team ({len(agenda.notes)})")]
    if not agenda.notes:
        out.append(
            "No notes in this period. Take them where they happen: the code action on any "
            'finding, or `handrail note --in-the-way --code HR201 "..."`.'
        )
    for stage, by_code in agenda.notes_by_stage():
        out += ["", h(3, stage)]
        for code, notes in by_code:
            title = f" ({CODES[code].title})" if code in CODES else ""
            helped = sum(1 for n in notes if n.verdict == "helped")
            out.append(
                f"- {code}{title}: {len(notes) - helped} in the way, {helped} helped"
                if md
                else f"  {code}{title}: {len(notes) - helped} in the way, {helped} helped"
            )
            for n in notes:
                out.append(("  - " if md else "    - ") + cell(_note_line(n)))

    out += ["", h(2, "2. Which checks fire, are overridden, block merges")]
    if agenda.codes:
        if md:
            out += [
                "| code | fires now | failed gate runs | in the way | helped | team setting |",
                "|---|---:|---:|---:|---:|---|",
            ]
        else:
            out.append(
                f"  {'code':<7} {'fires now':>9} {'gate fails':>10} {'in the way':>10} "
                f"{'helped':>6}  team setting"
            )
        for c in agenda.codes[:15]:
            setting = c.setting or ("" if md else "-")
            if md:
                out.append(
                    f"| {c.code} | {c.firing_now} | {c.failed_gates} | {c.in_the_way} | "
                    f"{c.helped} | {setting} |"
                )
            else:
                out.append(
                    f"  {c.code:<7} {c.firing_now:>9} {c.failed_gates:>10} {c.in_the_way:>10} "
                    f"{c.helped:>6}  {setting}"
                )
    else:
        out.append("Nothing fires, nothing is overridden, no gate run failed.")
    if not agenda.stats.gate.recorded:
        out.append(
            "(No gate runs are recorded: `handrail check --record-gate` in CI says which checks "
            "block merges.)"
        )

    out += ["", h(2, "3. The four signs that the workflow works")]
    out.append(
        f"Rates show their counts; under {SMALL_SAMPLE} observations they are marked "
        "“small sample”: read them as examples, not as figures."
    )
    out += ["", h(3, "New developers are competent within their first weeks")]
    team_line = (
        f"Team in this period: first attempt passed {first_pass(s).text()}, "
        f"rework {rework(s).text()}."
    )
    out.append(team_line)
    if not agenda.newcomers.newcomers:
        out.append("Nobody marked their first block in this period.")
    for newcomer in agenda.newcomers.newcomers:
        g = newcomer.first_weeks
        out.append(
            f"- {cell(newcomer.author)} (first block {newcomer.started.isoformat()}; "
            f"{g.blocks} blocks in their "
            f"first {NEW_DEVELOPER_DAYS} days): first attempt {first_pass(g).text()}, "
            f"rework {rework(g).text()}"
        )
    out += ["", h(3, "Quality is consistent across developers")]
    for sp in agenda.consistency:
        if not sp.recorded:
            out.append(
                f"Per {sp.dimension}: not recorded (the ledger's block records name no agent "
                "or model)."
            )
            continue
        if sp.points is None:
            out.append(
                f"Per {sp.dimension}: fewer than two with {SMALL_SAMPLE} or more first attempts, "
                "so no spread is given."
            )
        else:
            out.append(
                f"Per {sp.dimension}: first-attempt pass rates {sp.points * 100:.0f} points apart "
                f"(highest minus lowest, over {', '.join(cell(k) for k in sp.compared)})."
            )
        for g in sp.groups:
            out.append(
                f"- {cell(g.key)}: first attempt {first_pass(g).text()}, rework {rework(g).text()}"
            )
    out += ["", h(3, "Rework is trending down")]
    t = agenda.trend
    out.append(
        f"{_TREND_WORDS[t.direction]}: earlier half of the weeks {t.earlier.text()}, "
        f"later half {t.later.text()}."
    )
    for w in t.weeks:
        out.append(f"- {w.key}: rework {rework(w).text()}")
    out += ["", h(3, "People reference the document instead of the resident expert")]
    out.append(
        f"Notes that say where the answer came from: the docs {agenda.doc.answered.text()}. "
        "This is only what people chose to say (`handrail note --answered-by docs|colleague`); "
        "Handrail does not watch who reads what. WORKFLOW.md is "
        f"{agenda.doc.doc_state} against the rules."
    )

    out += ["", h(2, "4. Suggested changes")]
    if not agenda.suggestions:
        out.append("Nothing stands out in the figures; the notes decide.")
    for number, sug in enumerate(agenda.suggestions, 1):
        out.append(f"{number}. {cell(sug.text)} {cell(sug.why)}")
    return out


def _md(text: str) -> str:
    """Text from the repository made inert in Markdown (no links, no HTML, no tables broken)."""
    for char in "\\`*_[]<>|#":
        text = text.replace(char, "\\" + char)
    return text


def render_text(agenda: Agenda) -> str:
    return "\n".join(_outline(agenda, md=False)) + "\n"


_BLOCK_LINE = re.compile(r"^(?: *- |\||\d+\. )")


def render_markdown(agenda: Agenda) -> str:
    """The outline with a blank line around every heading, paragraph, list and table, so each
    renders as one in any Markdown (a line right after a table would become one of its rows)."""
    out: list[str] = []
    for line in _outline(agenda, md=True):
        if not line:
            continue
        joins = out and _BLOCK_LINE.match(line) and _BLOCK_LINE.match(out[-1])
        same_kind = joins and (line.startswith("|") == out[-1].startswith("|"))
        if out and not same_kind:
            out.append("")
        out.append(line)
    return "\n".join(out) + "\n"


def _rate_cell(rate: Rate) -> str:
    return escape(rate.text())


def render_html(agenda: Agenda) -> str:
    """One self-contained page: the same agenda, with the stats charts where the data allows."""
    s = agenda.stats
    parts = [
        "<!DOCTYPE html>\n",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(TITLE)}</title><style>{_CSS}",
        ".small { color: #9a6700; } li { margin: .2rem 0; }",
        "</style></head><body>",
        f"<h1>{escape(TITLE)}</h1>",
        f"<p class=sub>{escape(agenda.period.label())}; prepared "
        f"{agenda.generated.isoformat()}"
        + (f" for {escape(agenda.owner)}" if agenda.owner else "")
        + ".</p>",
    ]
    cards = [
        (str(len(agenda.notes)), "notes"),
        (first_pass(s.total).text(), "first-attempt pass"),
        (rework(s.total).text(), "rework"),
        (_TREND_CARD[agenda.trend.direction], "rework trend"),
        (agenda.doc.answered.text(), "answered by the docs"),
    ]
    parts.append(
        '<div class="cards">'
        + "".join(
            f'<div class="card"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for v, k in cards
        )
        + "</div>"
    )
    parts.append(f"<h2>1. Notes from the team ({len(agenda.notes)})</h2>")
    if not agenda.notes:
        parts.append("<p>No notes in this period.</p>")
    for stage, by_code in agenda.notes_by_stage():
        parts.append(f"<h3>{escape(stage)}</h3><ul>")
        for code, notes in by_code:
            title = f" ({escape(CODES[code].title)})" if code in CODES else ""
            items = "".join(f"<li>{escape(_note_line(n))}</li>" for n in notes)
            parts.append(f"<li><code>{escape(code)}</code>{title}<ul>{items}</ul></li>")
        parts.append("</ul>")

    parts.append("<h2>2. Which checks fire, are overridden, block merges</h2>")
    if agenda.codes:
        rows = "".join(
            f"<tr><td><code>{escape(c.code)}</code> {escape(CODES[c.code].title)}</td>"
            f"<td class=n>{c.firing_now}</td><td class=n>{c.failed_gates}</td>"
            f"<td class=n>{c.in_the_way}</td><td class=n>{c.helped}</td>"
            f"<td>{escape(c.setting or '')}</td></tr>"
            for c in agenda.codes[:15]
            if c.code in CODES
        )
        parts.append(
            "<table><tr><th>check</th><th class=n>fires now</th><th class=n>failed gate runs</th>"
            "<th class=n>in the way</th><th class=n>helped</th><th>team setting</th></tr>"
            f"{rows}</table>"
        )
    else:
        parts.append("<p>Nothing fires, nothing is overridden, no gate run failed.</p>")
    if s.gate.recorded and s.gate.per_week:
        parts.append(_legend("gate passed", "gate failed") + gate_chart(s.gate.per_week))

    parts.append("<h2>3. The four signs that the workflow works</h2>")
    parts.append(
        f"<p class=sub>Rates show their counts; under {SMALL_SAMPLE} observations they are "
        "marked <span class=small>small sample</span>.</p>"
    )
    parts.append("<h3>New developers are competent within their first weeks</h3>")
    rows = (
        f"<tr><td>team (this period)</td><td class=n>{s.total.blocks}</td>"
        f"<td class=n>{_rate_cell(first_pass(s.total))}</td>"
        f"<td class=n>{_rate_cell(rework(s.total))}</td></tr>"
    )
    for n in agenda.newcomers.newcomers:
        g = n.first_weeks
        rows += (
            f"<tr><td>{escape(n.author)} (from {n.started.isoformat()})</td>"
            f"<td class=n>{g.blocks}</td><td class=n>{_rate_cell(first_pass(g))}</td>"
            f"<td class=n>{_rate_cell(rework(g))}</td></tr>"
        )
    parts.append(
        f"<table><tr><th>first {NEW_DEVELOPER_DAYS} days of</th><th class=n>blocks</th>"
        f"<th class=n>first attempt passed</th><th class=n>rework</th></tr>{rows}</table>"
    )
    parts.append("<h3>Quality is consistent across developers</h3>")
    authors = agenda.consistency[0]
    if authors.points is not None:
        parts.append(
            f"<p>First-attempt pass rates are {authors.points * 100:.0f} points apart.</p>"
        )
    else:
        parts.append(
            f"<p>Too few developers with {SMALL_SAMPLE} or more first attempts to give a "
            "spread.</p>"
        )
    parts.append(_legend() + author_chart(s.per_author))
    for sp in agenda.consistency[1:]:
        if not sp.recorded:
            parts.append(
                f"<p>Per {escape(sp.dimension)}: not recorded (no block record names an agent "
                "or a model).</p>"
            )
        else:
            parts.append(f"<h3>Per {escape(sp.dimension)}</h3>{_legend()}")
            parts.append(author_chart(sp.groups))
    parts.append("<h3>Rework is trending down</h3>")
    t = agenda.trend
    parts.append(
        f"<p>{escape(_TREND_WORDS[t.direction])}: earlier half "
        f"{_rate_cell(t.earlier)}, later half {_rate_cell(t.later)}.</p>"
    )
    if t.direction != "too few":
        parts.append(_legend() + trend_chart(t.weeks))
    parts.append("<h3>People reference the document instead of the resident expert</h3>")
    parts.append(
        f"<p>Notes that say where the answer came from: the docs {_rate_cell(agenda.doc.answered)}"
        ". Only what people chose to say; Handrail does not watch who reads what. WORKFLOW.md "
        f"is {escape(agenda.doc.doc_state)} against the rules.</p>"
    )
    parts.append("<h2>4. Suggested changes</h2>")
    if agenda.suggestions:
        parts.append(
            "<ol>"
            + "".join(
                f"<li><b>{escape(sug.text)}</b> {escape(sug.why)}</li>"
                for sug in agenda.suggestions
            )
            + "</ol>"
        )
    else:
        parts.append("<p>Nothing stands out in the figures; the notes decide.</p>")
    parts.append("</body></html>\n")
    return "".join(parts)
