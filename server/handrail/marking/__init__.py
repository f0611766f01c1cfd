"""Marking: code wrapped in block markers, with its `BlockMarked` ledger record, both or neither.

`record` (the order every way of marking follows, and taking a record back), `ids` (block ids
in use and the one allocator), `buffer` (an editor's buffer), `write` (a file on disk:
`handrail mark`, generated code), `diff` (`handrail mark --diff`), `renumber` (one id, two
blocks). `handrail.blocks.mark` stays the text primitive they all use. The package imports
nothing itself, so importing one of them costs only that one.
"""
