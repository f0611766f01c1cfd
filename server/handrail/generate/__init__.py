"""Stage 3 from the terminal: send a checked prompt pack to the user's own model endpoint.

`settings` reads where the endpoint is (the user's config dir, never the repository),
`client` streams the answer over the OpenAI-compatible chat-completions protocol, `extract`
takes the code out of the answer, and `handoff` ties them to the gate and the block markers.
"""
