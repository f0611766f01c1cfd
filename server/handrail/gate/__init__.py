"""The gate: every check of PRODUCT.md §4 over a workspace (`handrail check`, CI, git hooks).

`gate.run` is the gate itself. Nothing is imported here, so that a front end can import one
module of the package without the engine behind the others.
"""
