"""Accepted code in the editor: its provenance on hover, and (opt-in) a lens on its first line.

Once `handrail accept` removed a block's markers, nothing in the file says the lines were
generated. `handrail.review.blame.accepted_blocks` finds them again from the ledger's line
hashes, with a state (accepted, moved, edited, gone); the hover and the lens show what it
found, and `handrail blame` prints the same. It is computed once per analysis of a document and
kept until the next one, so the lens the editor asks for on every scroll and the hover share it.

The lens is off by default (setting ``lens.acceptedCode``): accepted code is ordinary code to
most readers, and a line above every accepted block would be noise to them.
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING

from lsprotocol import types

from handrail.lsp.features.common import first_words, lsp_range
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import DocumentAnalysis

if TYPE_CHECKING:
    # The engine (pydantic models, the ledger) is imported after `initialize` is answered,
    # with the first request that needs it (issue 17).
    from handrail.review.blame import BlameBlock

log = logging.getLogger(__name__)

_found: weakref.WeakKeyDictionary[
    HandrailServer, dict[str, tuple[DocumentAnalysis, int, list[BlameBlock]]]
] = weakref.WeakKeyDictionary()

_SINCE = {"accepted": "accepted", "moved": "accepted, moved since", "edited": "edited since"}


def accepted_in(server: HandrailServer, analysis: DocumentAnalysis) -> list[BlameBlock]:
    """The accepted blocks of the analysed document that still stand in it (not "gone"),
    found once per analysis and snapshot."""
    from handrail.review.blame import accepted_blocks

    folder = analysis.folder
    if folder is None or analysis.rel is None or analysis.source is None:
        return []
    cache = _found.setdefault(server, {})
    for gone in [u for u in cache if u not in server.documents]:
        del cache[gone]
    kept = cache.get(analysis.uri)
    if kept is not None and kept[0] is analysis and kept[1] == folder.generation:
        return kept[2]
    marked = {block.id for block in analysis.source.parsed.blocks}
    try:
        found = accepted_blocks(folder.snapshot, analysis.rel, analysis.lines, skip=marked)
    except Exception:  # a broken record must not take the hover or the lenses with it
        log.exception("Handrail could not find the accepted blocks of %s", analysis.uri)
        found = []
    standing = [block for block in found if block.lines]
    cache[analysis.uri] = (analysis, folder.generation, standing)
    return standing


def lens_words(block: BlameBlock) -> str:
    """A few words, so the editor never cuts them: "generated · k3f7qa.1 · edited since"."""
    return f"generated · {block.block_id} · {_SINCE.get(block.state, block.state)}"


def lens_tooltip(block: BlameBlock) -> str:
    verdict = "verified" if block.verified else f"not verified ({block.status})"
    accepted = [e for e in block.events if e.what == "accepted"]
    by = ""
    if accepted:
        last = accepted[-1]
        by = f" · accepted {last.at:%Y-%m-%d}" + (f" by {last.who}" if last.who else "")
    about = first_words(block.spec) if block.spec else "the task file is gone"
    return f"{block.block_id}: {block.detail} · {verdict}{by} · task {block.task_id}: {about}"


def accepted_lenses(server: HandrailServer, analysis: DocumentAnalysis) -> list[types.CodeLens]:
    """One lens on the first line of each accepted block still in the document, when the
    editor asked for them (``lens.acceptedCode``)."""
    if not server.settings.accepted_code_lens:
        return []
    lenses: list[types.CodeLens] = []
    for block in accepted_in(server, analysis):
        line = block.first_line
        if not 1 <= line <= len(analysis.lines):
            continue
        where = lsp_range(server, analysis.lines, line, 1, line, 1)
        # An empty command id, as the block status lens: shown, and clicking does nothing.
        command = types.Command(lens_words(block), "", tooltip=lens_tooltip(block))
        lenses.append(types.CodeLens(range=where, command=command))
    return lenses
