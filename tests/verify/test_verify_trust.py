"""Trust: approvals outside the repository, voided by any change to what runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from verify_helpers import TASK, write_task, write_workflow

from handrail.verify import trust as trust_mod
from handrail.verify.trust import is_trusted, pending
from handrail.workspace import Workspace

COMMAND = "python -m pytest -q tests"


def test_nothing_is_trusted_until_handrail_trust(workspace: Workspace) -> None:
    write_workflow(workspace, COMMAND)
    decision = is_trusted(workspace, COMMAND)
    assert not decision.trusted and decision.kind == "no_record"
    trust_mod.trust(workspace)
    decision = is_trusted(workspace, COMMAND)
    assert decision.trusted and decision.kind == "approved"


def test_the_store_lives_in_the_user_state_folder_not_the_repository(
    workspace: Workspace,
) -> None:
    write_workflow(workspace, COMMAND)
    trust_mod.trust(workspace)
    store = Path(os.environ["XDG_STATE_HOME"]) / "handrail" / "trust.json"
    assert trust_mod.store_path() == store and store.is_file()
    assert workspace.root not in store.parents
    data = json.loads(store.read_text())
    entry = data["workspaces"][os.path.realpath(workspace.root)]
    assert COMMAND in entry["commands"].values()
    assert entry["runs_sha256"] == trust_mod.workflow_digest(workspace)
    # Nothing was written inside the workspace.
    assert sorted(p.name for p in workspace.handrail_dir.iterdir()) == ["tasks", "workflow.toml"]
    assert not list(store.parent.glob(".*.tmp"))


def test_an_edit_to_what_runs_voids_the_approval(workspace: Workspace) -> None:
    write_workflow(workspace, COMMAND)
    trust_mod.trust(workspace)
    write_workflow(workspace, COMMAND + " -x")
    decision = is_trusted(workspace, COMMAND)
    assert not decision.trusted and decision.kind == "workflow_changed"
    assert "commands or their per-path rules" in decision.reason


def test_upkeep_that_changes_nothing_that_runs_keeps_the_approval(workspace: Workspace) -> None:
    """A comment, a cap, the review date and the timeout: the rules' upkeep, not what runs."""
    write_workflow(workspace, COMMAND)
    trust_mod.trust(workspace)
    text = workspace.workflow_path.read_text(encoding="utf-8")
    text = text.replace("reviewed = 2026-11-01", "reviewed = 2026-12-05  # reviewed by Ada")
    text = text.replace("timeout_s = 60", "timeout_s = 900")
    text += "\n# a comment\n[spec]\nmax_sentences = 3\n\n[context]\nmax_tokens = 9000\n"
    workspace.workflow_path.write_text(text, encoding="utf-8")
    assert is_trusted(workspace, COMMAND).trusted


def test_recording_a_review_keeps_the_approval(workspace: Workspace) -> None:
    import datetime as dt

    from handrail.review.meeting import mark_reviewed

    write_workflow(workspace, COMMAND)
    trust_mod.trust(workspace)
    before = workspace.workflow_path.read_bytes()
    mark_reviewed(workspace, today=dt.date(2026, 12, 5), by="Ada Tester")
    assert workspace.workflow_path.read_bytes() != before
    assert is_trusted(workspace, COMMAND).trusted


def test_a_change_to_the_per_path_rules_voids_the_approval(workspace: Workspace) -> None:
    rules = (
        '\n[[verification.by_path]]\npattern = "web/**"\ncommand = "npm test"\n'
        '\n[[verification.by_path]]\npattern = "*.go"\ncommand = "go test ./..."\n'
    )
    write_workflow(workspace, COMMAND, extra=rules)
    trust_mod.trust(workspace)
    assert is_trusted(workspace, "npm test").trusted
    # The same command for other files: what runs for a file in web/ is different now.
    write_workflow(workspace, COMMAND, extra=rules.replace("web/**", "**/*.js"))
    assert is_trusted(workspace, "npm test").kind == "workflow_changed"
    # The same entries in another order: the first match wins, so this changes what runs too.
    first, second = rules.split("\n\n[[")[0], "\n[[" + rules.split("\n\n[[")[1]
    write_workflow(workspace, COMMAND, extra=second + "\n" + first)
    assert is_trusted(workspace, "npm test").kind == "workflow_changed"


def test_an_invalid_workflow_is_bound_to_its_bytes(workspace: Workspace) -> None:
    write_workflow(workspace, COMMAND, extra="\n[spec]\nmax_sentences = 0\n")
    trust_mod.trust(workspace)
    assert is_trusted(workspace, COMMAND).trusted
    with workspace.workflow_path.open("a", encoding="utf-8") as handle:
        handle.write("# a comment\n")
    assert is_trusted(workspace, COMMAND).kind == "workflow_changed"


def test_an_approval_bound_to_the_old_file_hash_approves_nothing(workspace: Workspace) -> None:
    write_workflow(workspace, COMMAND)
    trust_mod.trust(workspace)
    store = trust_mod.store_path()
    data = json.loads(store.read_text())
    entry = data["workspaces"][os.path.realpath(workspace.root)]
    entry["workflow_sha256"] = entry.pop("runs_sha256")
    store.write_text(json.dumps(data))
    decision = is_trusted(workspace, COMMAND)
    assert not decision.trusted and "older Handrail" in decision.reason


def test_a_new_task_command_is_untrusted_until_approved(workspace: Workspace) -> None:
    write_workflow(workspace, COMMAND)
    trust_mod.trust(workspace)
    write_task(workspace, TASK, verify="make evil")
    assert is_trusted(workspace, COMMAND).trusted
    decision = is_trusted(workspace, "make evil")
    assert not decision.trusted and decision.kind == "command_not_approved"
    request = pending(workspace)
    assert [c.text for c in request.commands if c.origin == "task"] == ["make evil"]
    trust_mod.trust(workspace, request)
    assert is_trusted(workspace, "make evil").trusted


def test_trust_without_a_workflow_file_covers_the_default_pack(workspace: Workspace) -> None:
    request = pending(workspace)
    assert not request.has_workflow_file
    assert "python -m pytest -q" in request.texts()
    trust_mod.trust(workspace, request)
    assert is_trusted(workspace, "python -m pytest -q").trusted
    # Creating a workflow file that runs the same thing changes nothing that runs...
    write_workflow(workspace, "python -m pytest -q")
    assert is_trusted(workspace, "python -m pytest -q").trusted
    # ...one that runs something else does.
    write_workflow(workspace, "python -m pytest -x")
    assert is_trusted(workspace, "python -m pytest -q").kind == "workflow_changed"


def test_revoke_forgets_and_other_workspaces_are_unaffected(
    workspace: Workspace, tmp_path: Path
) -> None:
    write_workflow(workspace, COMMAND)
    other = Workspace.at(tmp_path / "other")
    (other.root / ".handrail").mkdir(parents=True)
    write_workflow(other, COMMAND)
    trust_mod.trust(workspace)
    trust_mod.trust(other)
    assert trust_mod.revoke(workspace)
    assert not trust_mod.revoke(workspace)
    assert not is_trusted(workspace, COMMAND).trusted
    assert is_trusted(other, COMMAND).trusted


def test_a_copy_of_an_approved_repository_elsewhere_is_not_trusted(
    workspace: Workspace, tmp_path: Path
) -> None:
    write_workflow(workspace, COMMAND)
    trust_mod.trust(workspace)
    clone = Workspace.at(tmp_path / "clone")
    (clone.root / ".handrail").mkdir(parents=True)
    clone.workflow_path.write_bytes(workspace.workflow_path.read_bytes())
    assert is_trusted(clone, COMMAND).kind == "no_record"


def test_a_corrupt_store_trusts_nothing_and_is_replaced(workspace: Workspace) -> None:
    write_workflow(workspace, COMMAND)
    store = trust_mod.store_path()
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text('{"version": 1, "workspaces": {"' + str(workspace.root) + '": ')
    assert not is_trusted(workspace, COMMAND).trusted
    store.write_text(json.dumps({"version": 1, "workspaces": {str(workspace.root): "junk"}}))
    assert not is_trusted(workspace, COMMAND).trusted
    trust_mod.trust(workspace)
    assert is_trusted(workspace, COMMAND).trusted


_MUTATION = st.tuples(
    st.sampled_from(["insert", "delete", "replace"]),
    st.integers(min_value=0, max_value=200),
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
)


# Each example rewrites the workflow (and task) file and approves afresh, so sharing the
# function-scoped workspace between examples leaves nothing over from an earlier one.


def _mutate(text: str, mutation: tuple[str, int, str]) -> str:
    kind, position, char = mutation
    index = position % (len(text) + 1)
    if kind == "insert":
        return text[:index] + char + text[index:]
    index = min(index, len(text) - 1)
    if kind == "delete":
        return text[:index] + text[index + 1 :]
    return text[:index] + char + text[index + 1 :]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_MUTATION)
def test_any_change_to_the_workflow_command_is_untrusted(
    workspace: Workspace, mutation: tuple[str, int, str]
) -> None:
    base = "python -m pytest -q -p no:cacheprovider tests/"
    write_workflow(workspace, base)
    trust_mod.trust(workspace)
    assert is_trusted(workspace, base).trusted
    changed = _mutate(base, mutation)
    write_workflow(workspace, changed)
    # Writing the same text back is no change: the approval stands. Anything else voids it,
    # for the new text and for the old one alike.
    unchanged = changed == base
    assert is_trusted(workspace, changed).trusted == unchanged
    assert is_trusted(workspace, base).trusted == unchanged


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_MUTATION)
def test_any_change_to_a_task_command_is_untrusted(
    workspace: Workspace, mutation: tuple[str, int, str]
) -> None:
    base = "python -m pytest -q tests/test_calc.py"
    write_workflow(workspace, COMMAND)
    write_task(workspace, TASK, verify=base)
    trust_mod.trust(workspace)
    changed = _mutate(base, mutation)
    write_task(workspace, TASK, verify=changed)
    assert is_trusted(workspace, changed).trusted == (changed in (base, COMMAND))
