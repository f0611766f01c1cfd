"""Attribution formats other tools read and write: Agent Trace out, git-ai's notes in."""
