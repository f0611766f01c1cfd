"""Benchmark (not a test): Verify from the editor against `handrail verify` from a terminal.

Issue 19.9 asks that editor verification be no slower than the CLI's. This script builds a
small Python project (a block in calc.py, `--tests` pytest tests), trusts it, then verifies
the same block with the same command `--runs` times each way, alternating, in one run:

- CLI: `handrail verify BLOCK` as a subprocess (start-up included, as a user waits for it);
- editor: `workspace/executeCommand handrail.verify {"block": BLOCK, "quiet": true}` to one
  `handrail lsp` kept running with calc.py open, as VS Code sends it; timed to the answer
  (what the user waits for) and to the block's new diagnostics being published.

`--pull` makes the editor's client pull `workspace/diagnostic` again 2 s after each answer,
as vscode-languageclient 9 does for as long as VS Code runs (`--files N` adds N ordinary
modules, so that the gate behind each pull has a repository's weight).

Run: `python bench/verify_bench.py [--runs 5] [--tests 300] [--pull] [--files 2000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

TASK = "abcdef"
BLOCK = f"{TASK}.1"
SPEC = "Given two integers, return their sum. It must never raise and follow the style of calc.py."


def make_project(root: Path, tests: int, files: int) -> None:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q"], cwd=root, check=True, env=env)
    subprocess.run(
        [sys.executable, "-m", "handrail", "init"],
        cwd=root,
        check=True,
        env=env,
        capture_output=True,
    )
    command = f"{shlex.quote(sys.executable)} -m pytest -q -p no:cacheprovider"
    (root / ".handrail" / "workflow.toml").write_text(
        'extends = "default"\n\n[workflow]\nowner = "Bench"\nreviewed = 2026-11-01\n\n'
        f"[verification]\ncommand = {command!r}\ntimeout_s = 300\n".replace("'", '"'),
        encoding="utf-8",
    )
    (root / ".handrail" / "tasks" / f"{TASK}.toml").write_text(
        f'id = "{TASK}"\nspec = "{SPEC}"\ncontext = []\n', encoding="utf-8"
    )
    (root / "calc.py").write_text(
        f"# handrail:begin {BLOCK}\ndef add(a, b):\n    return a + b\n# handrail:end {BLOCK}\n"
    )
    body = "from calc import add\n\n" + "".join(
        f"\ndef test_add_{n}():\n    assert add({n}, 1) == {n + 1}\n" for n in range(tests)
    )
    (root / "test_calc.py").write_text(body)
    (root / "lib").mkdir()
    module = "".join(f"def f{n}(x):\n    return x + {n}\n\n\n" for n in range(100))
    for n in range(files):
        (root / "lib" / f"m{n}.py").write_text(module)
    subprocess.run(
        [sys.executable, "-m", "handrail", "trust"],
        cwd=root,
        check=True,
        capture_output=True,
        input="y\n",
        text=True,
    )


def cli_once(root: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "handrail", "verify", BLOCK],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"handrail verify failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


class Editor:
    def __init__(self, pull: bool) -> None:
        self.pull = pull
        self.pulls = 0
        self.puller: asyncio.Task[None] | None = None
        self.client = LanguageClient("verify-bench", "1")
        self.published: asyncio.Event = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _published(_: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
            if params.uri.endswith("/calc.py"):
                self.published.set()

        @self.client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def _progress(_: LanguageClient, params: types.WorkDoneProgressCreateParams) -> None:
            """Progress is shown in VS Code: accept it, as it does."""

    async def start(self, root: Path) -> None:
        await self.client.start_io(sys.executable, "-m", "handrail", "lsp")
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    window=types.WindowClientCapabilities(work_done_progress=True),
                    workspace=types.WorkspaceClientCapabilities(
                        diagnostics=types.DiagnosticWorkspaceClientCapabilities(
                            refresh_support=False
                        )
                    ),
                ),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
                initialization_options={"handrail": {"trusted": True}},
            )
        )
        self.client.initialized(types.InitializedParams())
        calc = root / "calc.py"
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=calc.as_uri(), language_id="python", version=1, text=calc.read_text()
                )
            )
        )
        await asyncio.wait_for(self.published.wait(), 60)
        if self.pull:
            self.puller = asyncio.get_running_loop().create_task(self._pull())

    async def _pull(self) -> None:
        """vscode-languageclient's workspace pull: again 2 s after each answer."""
        previous: list[types.PreviousResultId] = []
        while True:
            report = await self.client.workspace_diagnostic_async(
                types.WorkspaceDiagnosticParams(previous_result_ids=previous)
            )
            self.pulls += 1
            previous = [
                types.PreviousResultId(uri=item.uri, value=item.result_id)
                for item in report.items
                if item.result_id is not None
            ]
            await asyncio.sleep(2.0)

    async def once(self) -> tuple[float, float]:
        """Seconds to the answer, and to calc.py's diagnostics published after it ran."""
        self.published.clear()
        start = time.perf_counter()
        answer = await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="handrail.verify", arguments=[{"block": BLOCK, "quiet": True}]
            )
        )
        answered = time.perf_counter() - start
        if not answer or not answer.get("ok"):
            raise SystemExit(f"handrail.verify failed: {answer}")
        await asyncio.wait_for(self.published.wait(), 60)
        return answered, time.perf_counter() - start

    async def stop(self) -> None:
        if self.puller is not None:
            self.puller.cancel()
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tests", type=int, default=300)
    parser.add_argument("--pull", action="store_true", help="pull workspace diagnostics")
    parser.add_argument("--files", type=int, default=0, help="ordinary modules to add")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve()
        make_project(root, args.tests, args.files)
        editor = Editor(args.pull)
        await editor.start(root)
        cli: list[float] = []
        answers: list[float] = []
        published: list[float] = []
        try:
            for _ in range(args.runs):
                cli.append(await asyncio.to_thread(cli_once, root))
                answered, shown = await editor.once()
                answers.append(answered)
                published.append(shown)
        finally:
            await editor.stop()
    load = os.getloadavg()[0]
    print(
        f"{args.runs} runs each, {args.tests} tests, {args.files} more files, "
        f"workspace pulls: {editor.pulls if args.pull else 'off'}, load average {load:.1f}"
    )
    for name, values in (
        ("CLI `handrail verify`", cli),
        ("editor handrail.verify, answer", answers),
        ("editor, diagnostics published", published),
    ):
        print(
            f"{name:34} median {statistics.median(values):.2f} s  "
            f"(min {min(values):.2f}, max {max(values):.2f})"
        )


if __name__ == "__main__":
    asyncio.run(main())
