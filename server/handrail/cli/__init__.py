"""The `handrail` command line: a thin front end over the engine."""

import os

# pydantic looks up third-party plugins through importlib.metadata on first use, which costs
# ~50 ms of every command's start-up; Handrail uses none. A user may still opt in.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
