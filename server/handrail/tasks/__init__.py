"""Tasks: the model, their files, what they say about themselves, and their blocks.

`model` (ids, `Task`, `LoadedTask`, `TaskFileError`), `files` (load, parse, create, edit and
write ``.handrail/tasks/<id>.toml``), `findings` (HR100-HR103, HR204 on a task),
`blocks` (HR314, HR315: what a block owes its task), `context_array` (the ``context = [...]``
entries of a task file's text, and editing them). The package imports nothing itself, so
importing one of them costs only that one.
"""
