"""`handrail lsp`: the language server, a thin adapter from the engine's findings to LSP.

This package is the only place that imports pygls and lsprotocol. Its parts:
- `server`: the `HandrailServer` class (the features' contract), `create_server`, `main`;
- `transport`: the stream, and every pygls-private member (one marked module, pinned by
  `tests/lsp/core/test_pygls_pins.py`); `protocol`: our overrides of pygls' message handling;
- `registry`: folders, and each document's place resolved once per version;
- `analysis_cache`: each open document's analysis, with the HR308 hints of
  `insertion_hints`; `diagnostics`: schedule, publish, pull, close;
- `documents`: the validated text store; `state`: folder snapshots and analyses; `convert`:
  positions and findings; `settings`: the editor settings; `disk_changes`,
  `workspace_diagnostics`: files changed on disk, and the gate's findings of closed files.
Features, the lifecycle handlers among them, live in `handrail.lsp.features`.
"""
