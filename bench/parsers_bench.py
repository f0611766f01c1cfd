"""Benchmark of the parsers that run on every keystroke or every check.

    python bench/parsers_bench.py

- `parse_blocks` on a 100,000-line file with 500 blocks (LF and CRLF): the language server
  re-parses on every change; goal well under 50 ms.
- `split_sentences` on inputs 4x longer: a linear splitter takes about 4x the time, a
  quadratic one 16x; goal under 10x for every shape (pathological runs included).
- `Ledger.read` of 5,000 records, cold and warm (the server's in-memory cache).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from handrail.blocks.markers import parse_blocks
from handrail.ledger.records import Trace, dump_record
from handrail.ledger.store import Ledger
from handrail.spec.sentences import split_sentences
from handrail.workspace import Workspace

LINES, BLOCKS = 100_000, 500


def best(runs: int, work: Callable[[], object]) -> float:
    fastest = float("inf")
    for _ in range(runs):
        started = time.process_time()
        work()
        fastest = min(fastest, time.process_time() - started)
    return fastest


def big_source(eol: str) -> str:
    lines: list[str] = []
    stride = LINES // BLOCKS
    for n in range(1, BLOCKS + 1):
        lines.append(f"# handrail:begin abcdef.{n}")
        lines.extend(f"    value_{n}_{i} = compute({i}, 'text é')  # note" for i in range(18))
        lines.append(f"# handrail:end abcdef.{n}")
        lines.extend(f"def plain_{n}_{i}(x):  return x * {i}" for i in range(stride - 20))
    return eol.join(lines) + eol


def main() -> int:
    for eol, name in (("\n", "LF"), ("\r\n", "CRLF")):
        text = big_source(eol)
        seconds = best(5, lambda text=text: parse_blocks(text, "big.py"))
        print(f"parse_blocks, {LINES} lines, {BLOCKS} blocks, {name}: {seconds * 1000:.1f} ms CPU")

    shapes: dict[str, Callable[[int], str]] = {
        "prose": lambda n: "Parse the header. Return the rows. " * (n // 35),
        "bullets": lambda n: "- item one\n" * (n // 11),
        "abbreviations": lambda n: "Use e.g. v1.2.3 and `a.b()` etc. then stop. " * (n // 44),
        "exclamations": lambda n: "Word. " + "! " * (n // 2),
        "dots in a URL": lambda n: "See http://x" + "." * n,
        "open brackets": lambda n: "x. " + "(" * n + " y.",
        "backtick runs": lambda n: " ".join("`" * (i % 40 + 1) + "x" for i in range(n // 20)),
    }
    for label, build in shapes.items():
        small, large = build(10_000), build(40_000)
        t_small = best(3, lambda small=small: split_sentences(small))
        t_large = best(3, lambda large=large: split_sentences(large))
        ratio = t_large / max(t_small, 1e-6)
        verdict = "ok" if ratio < 10 else "NOT linear"
        print(f"split_sentences {label:>14}: 10k {t_small * 1000:6.1f} ms, "
              f"40k {t_large * 1000:6.1f} ms, x{ratio:.1f} ({verdict})")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.at(Path(tmp))
        ws.ledger_dir.mkdir(parents=True)
        for n in range(5000):
            record = Trace.create(block_id=f"abcdef.{n % 40}", content_hash=f"sha256:{n:064x}")
            (ws.ledger_dir / f"{record.id}.json").write_bytes(dump_record(record))
        ledger = Ledger(ws)
        cold = best(1, ledger.read)
        warm = best(3, ledger.read)
        print(f"Ledger.read, 5,000 records: cold {cold * 1000:.0f} ms, warm {warm * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
