"""Handrail: a repeatable team workflow for AI-assisted coding.

The engine lives in this package and knows nothing of editors: every check returns plain
`Finding` objects that the command line prints and the language server (``handrail.lsp``)
converts to LSP diagnostics.
"""

__version__ = "0.1.0"
