"""Stage 5, integration and review: the PR summary, the workflow document, the metrics that
show whether the workflow works, accepting reviewed blocks, and the team's tooling."""
