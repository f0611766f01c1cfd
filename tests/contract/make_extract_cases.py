"""Writes extract_cases.json: answers and the code `handrail.generate.extract` takes from them.

The VS Code extension has its own copy of the extraction (client-vscode/src/logic/extract.ts,
so the chat view needs no server round trip); both read this file in their tests, so the two can
never give different code for the same answer. Run it after changing the extraction on purpose:

    python tests/contract/make_extract_cases.py

`test_extract_contract.py` fails when the file no longer matches what Python computes.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from handrail.generate.extract import _ALIASES, code_blocks, extract_code

HERE = Path(__file__).parent
CASES = HERE / "extract_cases.json"

# Answers a person wrote to pin the rules (CommonMark fences, language preference).
WRITTEN: list[tuple[str, str | None]] = [
    ("Here it is:\n\n```python\ndef f():\n    return 1\n```\n\nDone.", None),
    ("def f():\n    return 1\n", None),
    ("```\n\n   \n```", None),
    ("", None),
    ("~~~\na\n~~~\n", None),
    ("````\n```\nb\n````", None),
    ("~~~\n```\nc\n~~~", None),
    ("```js\nx = 1\ny = 2", None),
    ("  ```\n    a\n  b\nc\n  ```", None),
    ("    ```\n    a\n    ```", None),
    ("``` a`b\nx\n```", None),
    ("```\na\n``` not yet\nb\n```", None),
    ("```py\r\na = 1\r\nb = 2\r\n```\r\n", None),
    ("```bash\npip install x\npip install y\n```\n```python\nimport x\n```", "/w/src/a.py"),
    ("```bash\npip install x\npip install y\n```\n```python\nimport x\n```", None),
    ("```sh\nls\nls\n```\n```\nplain\n```", "a.py"),
    ("```sh\nls\nls\n```\n```js\nx\n```", "a.py"),
    ("```\na\n```\n```\nb\n```", None),
    ("````md\n```\ninner\n```\n``````\nafter\n", None),
    ("1. Step:\n\n   ```python\n   x = 1\n     y = 2\n   ```\n", None),
    ("```Python extra words\nx\n```", "a.py"),
    ("```\tpython\nx\n```", "a.py"),
    ("```python\nx\n```   \n", None),
    ("```python\nx\n```\t\n", None),
    ("text\r```\rcode\r```\r", None),
]
WRITTEN += [(f"```{name}\nx\n```\n```\ny\ny\n```", f"f{suffix}")
            for suffix, names in sorted(_ALIASES.items()) for name in sorted(names)]  # fmt: skip

# Random answers made of the pieces that matter: fences of both kinds and lengths, indents,
# info strings, CR/LF, prose. Seeded, so the file is the same each time it is made.
PIECES = ["```", "````", "~~~", "~~~~", "`", "~", " ", "   ", "    ", "\t", "python", "js",
          "x", "a`b", "\n", "\r\n", "\r", "code", "# c", "py", "ts", " ```", "\n```\n",
          "\n~~~\n"]  # fmt: skip
PATHS = [None, "a.py", "b.ts", "c.go", "d.txt", "/w/e.rs"]


def _random_answers(count: int) -> list[tuple[str, str | None]]:
    rng = random.Random(20261205)
    return [
        ("".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30))), rng.choice(PATHS))
        for _ in range(count)
    ]


def compute() -> list[dict[str, Any]]:
    cases = []
    for answer, path in WRITTEN + _random_answers(400):
        cases.append(
            {
                "answer": answer,
                "path": path,
                "code": extract_code(answer, path),
                "blocks": [
                    {"language": b.language, "code": b.code, "line": b.line, "closed": b.closed}
                    for b in code_blocks(answer)
                ],
            }
        )
    return cases


def render() -> str:
    return json.dumps(compute(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    CASES.write_text(render(), encoding="utf-8", newline="\n")
    print(f"wrote {CASES} ({len(compute())} cases)")
