"""Reading TOML for Handrail: where each key and value is written, and what is wrong with it.

Every TOML file Handrail reads (the workflow and the files it extends, task files, the context
array an editor shows while it is typed) needs the same two things the parser does not give:
positions (`index`: the span of every key and value by its pydantic-style path, in a strict
mode for text that parses and a tolerant mode for a buffer being typed) and plain sentences
for what is wrong (`problems`: tomllib's syntax errors and pydantic's validation errors in one
vocabulary). One scanner and one vocabulary, so a fix to either reaches every file.

The package is named after the format, not the parser: Python 3 imports are absolute, so
``handrail.toml`` never hides the standard library's ``tomllib`` or the ``tomlkit`` dependency.
"""
