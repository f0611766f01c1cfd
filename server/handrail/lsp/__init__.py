"""`handrail lsp`: the language server, a thin adapter from the engine's findings to LSP.

This package is the only place that imports pygls and lsprotocol. `server` holds the
`HandrailServer` and its document lifecycle, `documents` the validated text store, `state`
the per-folder snapshots and per-document analyses, `diagnostics` publishing and pulling,
`convert` positions and findings, `settings` the editor settings. Features (code actions,
lenses, hover...) live in `handrail.lsp.features`.
"""
