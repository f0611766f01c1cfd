"""Benchmark of `handrail lsp` (not a test): run `python bench/lsp_bench.py`.

Measures, over stdio with a real client:
- start -> `initialize` answered, and first diagnostics after `didOpen`;
- `didChange` -> `publishDiagnostics` with debounce 0 on a 10,000-line file with 50 blocks
  (median, p99) and a 100,000-line file with 500 blocks (median);
and the same edits against a bare pygls 2 server that only scans for markers (this script
with `--bare-server`), in the same run: the ratio is the figure.

`--large MB` runs another phase: the server's peak resident memory (VmHWM, Linux) for one
document of MB megabytes, over the size cap (not analysed), opened and then edited 5 times.

`--disk` runs another phase: a git repository of 2,000 committed files, a task made active, then
an agent's edit of 20 files on disk reported in one `didChangeWatchedFiles`: the time until all
20 HR308 hints are published; and a burst of 5,000 events (a checkout) against the time the
server then takes to answer a request (it must skip the burst, not stall).

`--rounds R` edits only the 10,000-line file (the other on disk), Handrail and the bare server
alternating for R rounds, and prints each session's median.
`--pull` (with `--rounds`) follows each edit with a `textDocument/diagnostic` pull, as VS Code
and Neovim ask, and times its answer (Handrail alone: the bare server answers no pulls).
`--unique-ids` gives the 100,000-line file's blocks a task of their own: by default both files
use task abcdef's ids, so the 10,000-line file's 50 ids are duplicates (HR305 on every edit).

`--starts N` times start-up only (issue 17): N sessions of Handrail and of the bare server,
alternating, best of each: `initialize` answered, and start to first diagnostics of a small file.
`--lenses N`: the median of N code lens, hover and code action requests on an unchanged
100,000-line document with 5 blocks.

`--memory` runs a separate phase instead: the server's resident memory (VmRSS, Linux) after
opening 100 files of the standard library, with the tokenizer's encoding loaded by a task
file whose context is counted first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

TASK = 'id = "abcdef"\nspec = "Parse a header line. Keep it fast."\ncontext = []\n'


def make_file(lines: int, blocks: int, task: str = "abcdef") -> str:
    """`lines` lines of Python with `blocks` evenly spread generated blocks of `task`."""
    out: list[str] = []
    every = lines // blocks
    n = 0
    for i in range(lines):
        if i % every == 0 and n < blocks and i + 10 < lines:
            n += 1
            out.append(f"# handrail:begin {task}.{n}")
        elif i % every == 9 and n > 0 and out[-9].startswith("# handrail:begin"):
            out.append(f"# handrail:end {task}.{n}")
        else:
            out.append(f"value_{i} = compute({i}, 'text')  # some ordinary code")
    return "\n".join(out) + "\n"


class Probe:
    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.waiters: dict[int | None, asyncio.Future[float]] = {}

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _published(_: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
            waiter = self.waiters.pop(params.version, None) or self.waiters.pop(None, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(time.perf_counter())

        @client.feature(types.WINDOW_LOG_MESSAGE)
        def _log(_: LanguageClient, params: types.LogMessageParams) -> None:
            print("server:", params.message[:200], file=sys.stderr)

    def expect(self, version: int | None) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[version] = future
        return future


def _requests(client: LanguageClient, uri: str, line: int) -> dict[str, Any]:
    """Requests a user makes on a block line: hover on the begin marker, lenses, actions."""
    document = types.TextDocumentIdentifier(uri=uri)
    marker = types.Position(line=line - 2, character=3)
    start = types.Position(line=line, character=0)
    here = types.Range(start=start, end=types.Position(line=line, character=5))
    return {
        "hover": lambda: client.text_document_hover_async(
            types.HoverParams(text_document=document, position=marker)
        ),
        "code_lens": lambda: client.text_document_code_lens_async(
            types.CodeLensParams(text_document=document)
        ),
        "code_action": lambda: client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=document,
                range=here,
                context=types.CodeActionContext(diagnostics=[]),
            )
        ),
    }


async def session(
    command: list[str],
    root: Path,
    files: dict[str, str],
    edits: int,
    requests: bool,
    pull: bool = False,
) -> dict[str, object]:
    """One server's session. With `pull` the client asks for each version's diagnostics
    (`textDocument/diagnostic`, as VS Code and Neovim do) instead of waiting for a push."""
    client = LanguageClient("bench", "1")
    probe = Probe(client)
    started = time.perf_counter()
    await client.start_io(*command)
    capabilities = types.ClientCapabilities()
    if pull:
        capabilities = types.ClientCapabilities(
            text_document=types.TextDocumentClientCapabilities(
                diagnostic=types.DiagnosticClientCapabilities()
            )
        )
    await client.initialize_async(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
            initialization_options={"debounce_ms": 0, "max_document_bytes": 50_000_000},
        )
    )
    result: dict[str, object] = {"initialize_s": time.perf_counter() - started}
    client.initialized(types.InitializedParams())
    for name, text in files.items():
        uri = (root / name).as_uri()
        waiter = probe.expect(None)
        opened = time.perf_counter()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )
        result[f"{name}:first_diagnostics_s"] = await asyncio.wait_for(waiter, 60) - opened
        timings = []
        target = next(i for i, line in enumerate(text.split("\n")) if "begin" in line) + 2
        for k in range(edits):
            version = k + 2
            if k % 2 == 0:
                rng = types.Range(
                    start=types.Position(line=target, character=0),
                    end=types.Position(line=target, character=0),
                )
                new = "x"
            else:
                rng = types.Range(
                    start=types.Position(line=target, character=0),
                    end=types.Position(line=target, character=1),
                )
                new = ""
            waiter = probe.expect(version)
            sent = time.perf_counter()
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[types.TextDocumentContentChangePartial(range=rng, text=new)],
                )
            )
            if pull:
                await asyncio.wait_for(
                    client.text_document_diagnostic_async(
                        types.DocumentDiagnosticParams(
                            text_document=types.TextDocumentIdentifier(uri=uri)
                        )
                    ),
                    60,
                )
                timings.append(time.perf_counter() - sent)
                continue
            timings.append(await asyncio.wait_for(waiter, 60) - sent)
        timings.sort()
        result[f"{name}:median_ms"] = statistics.median(timings) * 1000
        result[f"{name}:p99_ms"] = timings[min(len(timings) - 1, int(len(timings) * 0.99))] * 1000
        if requests:
            for label, ask in _requests(client, uri, target).items():
                spent = []
                for _ in range(30):
                    asked = time.perf_counter()
                    await asyncio.wait_for(ask(), 60)
                    spent.append(time.perf_counter() - asked)
                result[f"{name}:{label}_median_ms"] = statistics.median(spent) * 1000
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return result


def bare_server() -> None:
    """A pygls 2 server that only scans for markers: the floor to compare with."""
    from pygls.lsp.server import LanguageServer

    server = LanguageServer("bare", "1")
    marker = re.compile(r"handrail:(begin|end) (\S+)")

    def publish(ls: LanguageServer, uri: str, version: int | None) -> None:
        document = ls.workspace.get_text_document(uri)
        items = []
        for number, line in enumerate(document.source.split("\n")):
            match = marker.search(line)
            if match:
                items.append(
                    types.Diagnostic(
                        range=types.Range(
                            start=types.Position(line=number, character=match.start()),
                            end=types.Position(line=number, character=match.end()),
                        ),
                        message=f"block {match.group(2)}",
                    )
                )
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=items, version=version)
        )

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        publish(ls, params.text_document.uri, params.text_document.version)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        publish(ls, params.text_document.uri, params.text_document.version)

    server.start_io()


async def run(edits: int, unique_ids: bool = False) -> None:
    """Both files in one workspace. By default both use task abcdef's ids, so the 10k file's
    50 ids are also in the 100k file (HR305 on each, on every edit); `unique_ids` gives the
    100k file a task of its own, as in a workspace without duplicate ids."""
    other = "bcdefg" if unique_ids else "abcdef"
    files = {"ten_k.py": make_file(10_000, 50), "hundred_k.py": make_file(100_000, 500, other)}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / ".handrail" / "tasks").mkdir(parents=True)
        (root / ".handrail" / "tasks" / "abcdef.toml").write_text(TASK)
        if unique_ids:
            (root / ".handrail" / "tasks" / "bcdefg.toml").write_text(
                TASK.replace("abcdef", "bcdefg")
            )
        for name, text in files.items():
            (root / name).write_text(text)
        handrail = await session(
            [sys.executable, "-m", "handrail", "lsp"], root, files, edits, requests=True
        )
        bare = await session(
            [sys.executable, __file__, "--bare-server"], root, files, edits, requests=False
        )
    print(f"{'measure':38} {'handrail':>10} {'bare pygls':>10} {'ratio':>7}")
    for key, value in handrail.items():
        assert isinstance(value, float)
        unit = 1000 if key.endswith("_s") else 1
        label = key.replace("_s", "_ms") if key.endswith("_s") else key
        other = bare.get(key)
        if isinstance(other, float):
            ratio = value / other
            print(f"{label:38} {value * unit:10.1f} {other * unit:10.1f} {ratio:7.2f}")
        else:
            print(f"{label:38} {value * unit:10.1f} {'-':>10} {'-':>7}")


async def edit_rounds(edits: int, rounds: int, unique_ids: bool, pull: bool = False) -> None:
    """Edits of the 10,000-line file only (the 100,000-line file on disk, not opened), Handrail
    and the bare server alternating for `rounds` rounds: the median of each session. With
    `pull`, Handrail alone (the bare server answers no pulls): each edit, then a pull."""
    other = "bcdefg" if unique_ids else "abcdef"
    text = make_file(10_000, 50)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / ".handrail" / "tasks").mkdir(parents=True)
        (root / ".handrail" / "tasks" / "abcdef.toml").write_text(TASK)
        if unique_ids:
            (root / ".handrail" / "tasks" / "bcdefg.toml").write_text(
                TASK.replace("abcdef", "bcdefg")
            )
        (root / "ten_k.py").write_text(text)
        (root / "hundred_k.py").write_text(make_file(100_000, 500, other))
        files = {"ten_k.py": text}
        ours: list[float] = []
        bare: list[float] = []
        servers = [
            ([sys.executable, "-m", "handrail", "lsp"], ours),
            ([sys.executable, __file__, "--bare-server"], bare),
        ]
        for _ in range(rounds):
            for command, into in servers[:1] if pull else servers:
                result = await session(command, root, files, edits, requests=False, pull=pull)
                value = result["ten_k.py:median_ms"]
                assert isinstance(value, float)
                into.append(value)
    print(
        f"10k-line file, {edits} edits, {rounds} rounds alternating "
        f"({'unique ids' if unique_ids else 'its 50 ids also in the 100k file'}"
        f"{'; each edit then a pull' if pull else ''}); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("handrail medians: " + ", ".join(f"{v:.1f}" for v in ours) + " ms")
    if pull:
        return
    print("bare medians:     " + ", ".join(f"{v:.1f}" for v in bare) + " ms")
    print(f"best of each: {min(ours):.1f} / {min(bare):.1f} ms = {min(ours) / min(bare):.2f}x")


async def _start_once(command: list[str], root: Path, text: str) -> tuple[float, float]:
    """One start-up: seconds from start to `initialize` answered, and from `didOpen` of a
    small file with one block to its first diagnostics."""
    client = LanguageClient("bench", "1")
    probe = Probe(client)
    started = time.perf_counter()
    await client.start_io(*command)
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
            initialization_options={"debounce_ms": 0},
        )
    )
    initialized = time.perf_counter() - started
    client.initialized(types.InitializedParams())
    waiter = probe.expect(None)
    opened = time.perf_counter()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=(root / "small.py").as_uri(), language_id="python", version=1, text=text
            )
        )
    )
    first = await asyncio.wait_for(waiter, 60) - opened
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return initialized, first


async def starts(runs: int) -> None:
    """Start-up only (issue 17): `runs` sessions of each server, alternating, best of each."""
    text = make_file(100, 1)
    # The same interpreter for both, started as VS Code starts Handrail (`-m handrail lsp`,
    # which also runs another version's engine put first on PYTHONPATH).
    handrail = [sys.executable, "-m", "handrail", "lsp"]
    bare = [sys.executable, __file__, "--bare-server"]
    best: dict[str, list[float]] = {"handrail": [1e9, 1e9], "bare": [1e9, 1e9]}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / ".handrail" / "tasks").mkdir(parents=True)
        (root / ".handrail" / "tasks" / "abcdef.toml").write_text(TASK)
        (root / "small.py").write_text(text)
        for _ in range(runs):
            for name, command in (("bare", bare), ("handrail", handrail)):
                initialized, first = await _start_once(command, root, text)
                best[name][0] = min(best[name][0], initialized)
                best[name][1] = min(best[name][1], first)
    (h_init, h_first), (b_init, b_first) = best["handrail"], best["bare"]
    print(f"best of {runs}, alternating; load average {os.getloadavg()[0]:.1f}")
    print(f"{'measure':38} {'handrail':>10} {'bare pygls':>10} {'ratio':>7} {'goal':>6}")
    print(
        f"{'initialize_ms':38} {h_init * 1000:10.1f} {b_init * 1000:10.1f} "
        f"{h_init / b_init:7.2f} {'1.2':>6}"
    )
    h_total, b_total = h_init + h_first, b_init + b_first
    print(
        f"{'start to first diagnostics_ms':38} {h_total * 1000:10.1f} {b_total * 1000:10.1f} "
        f"{h_total / b_total:7.2f} {'1.5':>6}"
    )
    print(f"{'didOpen to first diagnostics_ms':38} {h_first * 1000:10.1f} {b_first * 1000:10.1f}")


async def lenses(runs: int) -> None:
    """Requests on an unchanged 100,000-line document with a few blocks (issue 17): the median
    of `runs` code lens and hover requests, served from the analysis already made."""
    text = make_file(100_000, 5)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / ".handrail" / "tasks").mkdir(parents=True)
        (root / ".handrail" / "tasks" / "abcdef.toml").write_text(TASK)
        (root / "big.py").write_text(text)
        client = LanguageClient("bench", "1")
        probe = Probe(client)
        await client.start_io(sys.executable, "-m", "handrail", "lsp")
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
                initialization_options={"debounce_ms": 0, "max_document_bytes": 50_000_000},
            )
        )
        client.initialized(types.InitializedParams())
        uri = (root / "big.py").as_uri()
        waiter = probe.expect(None)
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )
        await asyncio.wait_for(waiter, 120)
        target = next(i for i, line in enumerate(text.split("\n")) if "begin" in line) + 2
        print(f"100,000 lines, 5 blocks, unchanged; median of {runs}; goal <= 2 ms each")
        for label, ask in _requests(client, uri, target).items():
            spent = []
            for _ in range(runs):
                asked = time.perf_counter()
                await asyncio.wait_for(ask(), 60)
                spent.append(time.perf_counter() - asked)
            print(f"{label + '_median_ms':38} {statistics.median(spent) * 1000:10.2f}")
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()


def _rss_mb(pid: int) -> float:
    """Resident memory of process `pid` in MB (Linux /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS line")


def _status_mb(pid: int, field: str) -> float:
    """One memory field of /proc/<pid>/status (VmRSS, VmHWM: the peak so far) in MiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} line")


async def large(megabytes: int, changes: int) -> None:
    """Peak memory of the server for one document over the size cap: opened, then edited."""
    line = "x = f(1)  # note\n"
    text = line * (megabytes * 1_000_000 // len(line))
    size = len(text.encode())
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / ".handrail" / "tasks").mkdir(parents=True)
        uri = (root / "big.py").as_uri()
        client = LanguageClient("bench", "1")
        probe = Probe(client)
        await client.start_io(sys.executable, "-m", "handrail", "lsp")
        pid = client._server.pid  # type: ignore[union-attr]
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
                initialization_options={"debounce_ms": 0},
            )
        )
        client.initialized(types.InitializedParams())
        # A small file first, so the peak below is the large document's alone.
        waiter = probe.expect(None)
        small = types.TextDocumentItem(
            uri=(root / "small.py").as_uri(), language_id="python", version=1, text=line
        )
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=small))
        await asyncio.wait_for(waiter, 120)
        before = _status_mb(pid, "VmHWM")
        waiter = probe.expect(1)
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )
        await asyncio.wait_for(waiter, 600)
        opened = _status_mb(pid, "VmHWM")
        for n in range(changes):
            version = n + 2
            waiter = probe.expect(version)
            at = types.Position(line=n, character=0)
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[
                        types.TextDocumentContentChangePartial(
                            range=types.Range(start=at, end=at), text="x"
                        )
                    ],
                )
            )
            await asyncio.wait_for(waiter, 600)
        edited = _status_mb(pid, "VmHWM")
        resident = _status_mb(pid, "VmRSS")
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    mib = size / 2**20
    print(f"peak resident memory of `handrail lsp` (MiB), one {mib:.1f} MiB document over the cap")
    print(f"{'peak before the document':38} {before:10.1f}")
    print(f"{'peak after didOpen':38} {opened:10.1f}  growth {(opened - before) / mib:.2f}x")
    print(
        f"{'peak after ' + str(changes) + ' didChange':38} {edited:10.1f}"
        f"  growth {(edited - before) / mib:.2f}x"
    )
    print(f"{'resident at the end':38} {resident:10.1f}")


def stdlib_files(count: int) -> list[Path]:
    """`count` modules of the standard library, in a stable order, each under 200 KB."""
    root = Path(os.__file__).parent
    found = [
        p
        for p in sorted(root.glob("*.py")) + sorted(root.glob("*/*.py"))
        if "site-packages" not in p.parts and p.stat().st_size < 200_000
    ]
    return found[:count]


async def memory(count: int) -> None:
    files = stdlib_files(count)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / ".handrail" / "tasks").mkdir(parents=True)
        context = files[0].name
        (root / context).write_text(files[0].read_text(encoding="utf-8"), encoding="utf-8")
        task = root / ".handrail" / "tasks" / "abcdef.toml"
        task.write_text(TASK.replace("context = []", f'context = ["{context}"]'))
        client = LanguageClient("bench", "1")
        probe = Probe(client)
        await client.start_io(sys.executable, "-m", "handrail", "lsp")
        pid = client._server.pid  # type: ignore[union-attr]
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
                initialization_options={"debounce_ms": 0},
            )
        )
        client.initialized(types.InitializedParams())
        await asyncio.sleep(1.0)
        started = _rss_mb(pid)
        # The task file's context is counted: this loads the encoding in the server.
        waiter = probe.expect(None)
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=task.as_uri(), language_id="toml", version=1, text=task.read_text()
                )
            )
        )
        await asyncio.wait_for(waiter, 120)
        with_encoding = _rss_mb(pid)
        total_bytes = 0
        for number, path in enumerate(files):
            text = path.read_text(encoding="utf-8", errors="replace")
            total_bytes += len(text.encode())
            target = root / "lib" / f"{number:03d}_{path.name}"
            waiter = probe.expect(None)
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    text_document=types.TextDocumentItem(
                        uri=target.as_uri(), language_id="python", version=1, text=text
                    )
                )
            )
            await asyncio.wait_for(waiter, 60)
        opened = _rss_mb(pid)
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    print(
        f"resident memory of `handrail lsp` (MB), {len(files)} stdlib files, {total_bytes:,} bytes"
    )
    print(f"{'after initialize':38} {started:10.1f}")
    print(f"{'task file open, encoding loaded':38} {with_encoding:10.1f}")
    print(f"{'and ' + str(len(files)) + ' stdlib files open':38} {opened:10.1f}")


async def disk(files: int, edited: int, burst: int) -> None:
    import subprocess

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / ".handrail" / "tasks").mkdir(parents=True)
        (root / ".handrail" / "tasks" / "abcdef.toml").write_text(TASK)
        for n in range(files):
            (root / f"m{n:05d}.py").write_text(f"def f{n}(x):\n    return x + {n}\n")
        env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b",
               "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}  # fmt: skip
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
            subprocess.run(["git", *args], cwd=root, check=True, env=env)
        client = LanguageClient("bench", "1")
        published: dict[str, float] = {}

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _published(_: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
            if params.diagnostics:
                published[params.uri] = time.perf_counter()

        await client.start_io(sys.executable, "-m", "handrail", "lsp")
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
            )
        )
        client.initialized(types.InitializedParams())
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="handrail.setActiveTask", arguments=[{"task": "abcdef"}]
            )
        )
        targets = [root / f"m{n:05d}.py" for n in range(0, files, files // edited)][:edited]
        for path in targets:
            path.write_text(path.read_text() + "\n\ndef added(y):\n    return y * 2\n")
        start = time.perf_counter()
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(uri=p.as_uri(), type=types.FileChangeType.Changed)
                    for p in targets
                ]
            )
        )
        while len(published) < len(targets) and time.perf_counter() - start < 60:
            await asyncio.sleep(0.005)
        hinted = (max(published.values()) - start) * 1000 if published else float("nan")
        print(f"{edited} files changed on disk -> {len(published)} hinted in {hinted:.0f} ms "
              "(includes the 300 ms pause that collects a burst)")  # fmt: skip
        events = [
            types.FileEvent(
                uri=(root / f"m{n % files:05d}.py").as_uri(), type=types.FileChangeType.Changed
            )
            for n in range(burst)
        ]
        start = time.perf_counter()
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=events))
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="handrail.setActiveTask", arguments=[{"task": "abcdef"}]
            )
        )
        answered = (time.perf_counter() - start) * 1000
        print(f"a burst of {burst:,} events, then a command answered after {answered:.0f} ms")
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--edits", type=int, default=200, help="edits per file (default 200)")
    parser.add_argument(
        "--memory", action="store_true", help="measure resident memory after opening files"
    )
    parser.add_argument("--files", type=int, default=100, help="files for --memory")
    parser.add_argument(
        "--large",
        type=int,
        metavar="MB",
        help="measure peak memory for one document of MB megabytes over the size cap",
    )
    parser.add_argument(
        "--disk", action="store_true", help="measure HR308 hints for files changed on disk"
    )
    parser.add_argument(
        "--starts", type=int, metavar="N", help="start-up only: N sessions of each, best of N"
    )
    parser.add_argument(
        "--lenses", type=int, metavar="N", help="median of N lens/hover requests at 100k lines"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        metavar="R",
        help="edits of the 10k file only, Handrail and the bare server alternating R rounds",
    )
    parser.add_argument(
        "--pull",
        action="store_true",
        help="with --rounds: pull each version's diagnostics (Handrail alone)",
    )
    parser.add_argument(
        "--unique-ids",
        action="store_true",
        help="the 100k file's blocks of another task (by default they share the 10k file's ids)",
    )
    args = parser.parse_args()
    # An installed Handrail has its bytecode compiled by pip; a checkout may not (and this
    # machine sets PYTHONDONTWRITEBYTECODE), so compile it once as pip would: otherwise every
    # start compiles the modules changed since the last compile, and the figures measure that.
    import compileall

    import handrail as package

    compileall.compile_dir(Path(package.__file__).parent, quiet=1)
    if args.bare_server:
        bare_server()
    elif args.starts:
        asyncio.run(starts(args.starts))
    elif args.rounds:
        asyncio.run(edit_rounds(args.edits, args.rounds, args.unique_ids, args.pull))
    elif args.lenses:
        asyncio.run(lenses(args.lenses))
    elif args.memory:
        asyncio.run(memory(args.files))
    elif args.large:
        asyncio.run(large(args.large, 5))
    elif args.disk:
        asyncio.run(disk(2000, 20, 5000))
    else:
        asyncio.run(run(args.edits, args.unique_ids))


if __name__ == "__main__":
    main()
