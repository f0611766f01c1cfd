"""The stable diagnostic codes (PRODUCT.md §4).

The prefix names the stage and the package that owns the check:
HR1xx ``handrail.spec``, HR2xx ``handrail.context``, HR3xx ``handrail.blocks`` (and
``handrail.ledger`` for the evidence behind HR300-HR304), HR4xx ``handrail.workflow``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from handrail.findings import Severity


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    title: str
    severity: Severity
    """Default severity; a workflow's ``[severity]`` table overrides it."""


_E, _W, _I, _H = Severity.ERROR, Severity.WARNING, Severity.INFO, Severity.HINT

CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code("HR100", "spec missing", _E),
        Code("HR101", "spec too long", _W),
        Code("HR102", "spec incomplete", _W),
        Code("HR103", "spec still holds template text", _E),
        Code("HR200", "context over the token budget", _E),
        Code("HR201", "too many context files", _E),
        Code("HR202", "context file over the per-file cap", _E),
        Code("HR203", "context entry is ignored", _E),
        Code("HR204", "secret in a context entry or the spec", _E),
        Code("HR205", "context entry missing or outside the workspace", _E),
        Code("HR206", "context entry not scannable", _E),
        Code("HR207", "context lines changed or moved", _W),
        Code("HR300", "generated block not verified", _E),
        Code("HR301", "generated block changed since it was verified", _E),
        Code("HR302", "latest verification of the block failed", _E),
        Code("HR303", "risk tier requires a manual trace", _E),
        Code("HR304", "author has not acknowledged the block", _E),
        Code("HR305", "malformed block markers", _E),
        Code("HR306", "block refers to an unknown task", _E),
        Code("HR307", "block longer than the generation cap", _W),
        Code("HR308", "large unmarked insertion", _H),
        Code("HR309", "ledger record unreadable", _E),
        Code("HR310", "no passing test executed the block", _E),
        Code("HR311", "the verification could not run", _W),
        Code("HR312", "lines of the block no test ran", _H),
        Code("HR313", "the tests catch none of the block's mutants", _W),
        Code("HR314", "block generated under an earlier spec", _E),
        Code("HR315", "closed task still has unverified blocks", _W),
        Code("HR400", "workflow file invalid", _E),
        Code("HR401", "workflow review overdue", _W),
        Code("HR402", "workflow has no owner", _W),
        Code("HR403", "verification commands not trusted", _W),
        Code("HR404", "commit attribution does not follow the workflow", _E),
    )
}

_STAGE_5 = frozenset({"HR304", "HR400", "HR401", "HR402", "HR404"})
_STAGE_3 = frozenset({"HR305", "HR306", "HR307", "HR308"})


def stage_of(code: str) -> str | None:
    """The workflow stage a code belongs to (the stage ids of `workflow.model.StageId`).

    The same stages the code's docs page names; None for a code that is not Handrail's.
    """
    if code not in CODES:
        return None
    if code in _STAGE_5:
        return "integrate"
    if code in _STAGE_3:
        return "generate"
    return {"HR1": "specify", "HR2": "assemble", "HR3": "verify", "HR4": "verify"}[code[:3]]


DOCS_DIR = Path(__file__).resolve().parent / "docs" / "codes"
"""The code pages installed with the package: the offline copy, for local text output."""

_PACKAGE = "handrail"
_CODE_SLOT = "{code}"
_SCHEMES = ("https", "http")


def docs_url_problem(url: str) -> str | None:
    """Why `url` cannot be a documentation URL, in a few words; None when it can.

    Help links are opened by a browser on another machine (a CI run, a code-scanning alert,
    VS Code's link on a diagnostic), so only an http(s) address with a host is taken: a
    ``file:`` path or a bare name would point at nothing there.
    """
    import urllib.parse

    if url != url.strip() or any(c.isspace() for c in url):
        return "a URL has no spaces or line breaks"
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme.lower() not in _SCHEMES:
        got = f"{parts.scheme}:" if parts.scheme else "no scheme"
        return f"the documentation URL must start with https:// or http:// (got {got})"
    if not parts.hostname or _CODE_SLOT in parts.netloc:
        return "the documentation URL names no host"
    if parts.query or parts.fragment:
        return "the documentation URL takes no ?query or #fragment"
    rest = url.replace(_CODE_SLOT, "")
    if "{" in rest or "}" in rest:
        return f"the only placeholder a documentation URL may hold is {_CODE_SLOT}"
    return None


@lru_cache(maxsize=1)
def default_docs_url() -> str | None:
    """The published documentation: the ``Documentation`` entry of the package's
    ``[project.urls]`` (pyproject.toml), the one place it is written.

    An editable install made before the entry existed has metadata without it; the
    pyproject.toml of the source tree it runs from is read then. None only for an
    installation that has neither (then links fall back to the installed copy).
    """
    found = _from_metadata()
    if found is None:
        found = _from_source_tree()
    if found is None or docs_url_problem(found) is not None:
        return None
    return found.rstrip("/")


def _from_metadata() -> str | None:
    from importlib import metadata

    try:
        entries = metadata.metadata(_PACKAGE).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in entries:
        label, _, url = str(entry).partition(",")
        if label.strip().casefold() == "documentation":
            return url.strip()
    return None


def _from_source_tree() -> str | None:
    import tomllib

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    project = data.get("project")
    if not isinstance(project, dict) or project.get("name") != _PACKAGE:
        return None  # some other project's file beside an installed package
    urls = project.get("urls")
    url = urls.get("Documentation") if isinstance(urls, dict) else None
    return url if isinstance(url, str) else None


def doc_url(code: str, base_url: str | None = None) -> str:
    """The web page explaining `code`: under `base_url` when one is configured, else under
    the published documentation (`default_docs_url`).

    A base URL is the documentation's root, the folder that holds ``codes/``: the page is
    ``<base>/codes/<CODE>.md``. A base that already ends in ``/codes`` (the language server's
    ``docsBaseUrl`` named that folder before) gets ``<base>/<CODE>.md``, and a base holding
    ``{code}`` is a template (``https://docs.example.com/rules/{code}.html``) for sites that
    publish the pages under other names.
    """
    base = base_url or default_docs_url()
    if base is None:
        return offline_doc_url(code)
    if _CODE_SLOT in base:
        return base.replace(_CODE_SLOT, code)
    base = base.rstrip("/")
    if base.endswith("/codes"):
        return f"{base}/{code}.md"
    return f"{base}/codes/{code}.md"


def docs_home(base_url: str | None = None) -> str:
    """The documentation's root (SARIF's ``informationUri``): the configured base up to any
    ``{code}`` template's last folder, else the published documentation."""
    base = base_url or default_docs_url()
    if base is None:
        return DOCS_DIR.parent.as_uri()
    if _CODE_SLOT in base:
        return base[: base.index(_CODE_SLOT)].rsplit("/", 1)[0]
    return base.rstrip("/")


def offline_doc_url(code: str) -> str:
    """The ``file:`` URI of the page installed with the package: works offline, always the
    installed version, but only on this machine (local text output only)."""
    return (DOCS_DIR / f"{code}.md").as_uri()
