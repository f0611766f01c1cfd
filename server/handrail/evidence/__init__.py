"""Stage 4 evidence beyond "the command exited 0": which lines of a block ran, under which
tests, and whether the tests notice when the block is broken (the probe).

`lines` holds the one shape every coverage source is turned into (coverage.py data, LCOV,
Cobertura, Go coverprofile, JaCoCo), so attribution to blocks is written once.
"""
