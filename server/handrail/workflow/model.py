"""The workflow rules as one typed tree (pydantic v2).

A shipped pack (``rules/default.toml``) gives every field; a workspace's
``.handrail/workflow.toml`` says ``extends = "<pack>"`` and overrides any field. Unknown
keys are errors (``extra="forbid"``): a misspelt knob must never be ignored silently.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from handrail.findings import Severity
from handrail.workflow.patterns import compile_pattern


class Strict(BaseModel):
    # defer_build: a section's own validator is built when it is first used alone; loading a
    # workflow builds the whole tree's once (issue 17: nothing is built at import).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


StageId = Literal["specify", "assemble", "generate", "verify", "integrate"]
SeverityName = Literal["error", "warning", "info", "hint", "off"]
Evidence = Literal["tests", "trace", "second_reviewer", "probe"]


class Stage(Strict):
    id: StageId
    name: str
    entry: str = Field(description="What must hold before the stage starts.")
    action: str = Field(description="What the developer does in the stage.")
    exit: str = Field(description="What must hold before the next stage.")


class Checkpoint(Strict):
    id: str
    stage: StageId
    question: str
    otherwise: str = Field(description="What to do when the answer is no.")


class WorkflowMeta(Strict):
    name: str = "default"
    owner: str = ""
    reviewed: dt.date | None = None
    review_every_days: int = Field(default=90, ge=1, le=3660)

    def next_review(self) -> dt.date | None:
        if self.reviewed is None:
            return None
        return self.reviewed + dt.timedelta(days=self.review_every_days)


class SpecRules(Strict):
    max_sentences: int = Field(default=2, ge=1, le=50)
    hard_max_sentences: int = Field(default=3, ge=1, le=50)
    template: str = Field(
        default="",
        description="The text a new task's spec starts from; left unchanged it is HR103.",
    )
    placeholders: list[str] = Field(
        default_factory=list,
        description="Regular expressions that only template text matches (HR103).",
    )
    required: dict[str, str] = Field(
        default_factory=dict,
        description="Named parts a spec must mention: name -> regular expression (HR102).",
    )

    @model_validator(mode="after")
    def _hard_not_below_soft(self) -> SpecRules:
        if self.hard_max_sentences < self.max_sentences:
            raise ValueError(
                f"hard_max_sentences ({self.hard_max_sentences}) is below "
                f"max_sentences ({self.max_sentences})"
            )
        return self

    @field_validator("placeholders")
    @classmethod
    def _placeholders_compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            _compile(pattern)
        return value

    @field_validator("required")
    @classmethod
    def _required_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for pattern in value.values():
            _compile(pattern)
        return value


class ContextRules(Strict):
    encoding: str = Field(default="cl100k_base", description="tiktoken encoding name.")
    fallback_encoding: str | None = Field(
        default="cl100k_base",
        description="Used, and named in every report, when `encoding` cannot be loaded.",
    )
    max_tokens: int = Field(default=24000, ge=1)
    max_files: int = Field(default=12, ge=1)
    max_file_tokens: int = Field(default=8000, ge=1)
    max_file_bytes: int = Field(default=2_000_000, ge=1)
    ignore: list[str] = Field(default_factory=list)
    use_gitignore: bool = True
    scan_secrets: bool = True
    rules: list[str] = Field(
        default_factory=list,
        description="The team's context rules, pasted into every prompt pack.",
    )


class GenerationRules(Strict):
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    max_block_lines: int = Field(default=80, ge=1)
    instructions: list[str] = Field(default_factory=list)


class PathCommand(Strict):
    pattern: str = Field(description="gitignore-style pattern matched against the block's file.")
    command: str
    coverage: str = Field(
        default="",
        description="The line-coverage report this command writes (LCOV, Cobertura, Go, "
        "JaCoCo), workspace-relative.",
    )


MinExecuted = Literal["none", "one", "all"] | Annotated[float, Field(gt=0, le=1)]


class VerificationRules(Strict):
    command: str = ""
    coverage: str = Field(
        default="",
        description="The line-coverage report the default command writes (non-Python "
        "commands; Python is measured without one), workspace-relative.",
    )
    min_executed: MinExecuted = Field(
        default="one",
        description='How much of a block a passing run must have executed: "one" line, "all" '
        'executable lines, a fraction (0.8), or "none" (a passing run counts unmeasured).',
    )
    by_path: list[PathCommand] = Field(default_factory=list)
    timeout_s: float = Field(default=300.0, gt=0, le=86400)
    max_output_bytes: int = Field(default=65536, ge=1024)


def _tests_only() -> list[Evidence]:
    return ["tests"]


class RiskTier(Strict):
    name: str
    paths: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    requires: list[Evidence] = Field(default_factory=_tests_only)
    why: str = ""


class ReviewRules(Strict):
    require_explanation: bool = True
    require_ai_flag: bool = True
    require_second_reviewer_for: list[str] = Field(default_factory=list)
    require_review_to_accept: bool = False
    """`handrail accept` refuses a block no one but its author has approved."""


AttributionPolicy = Literal["none", "assisted-by", "generated-by", "custom"]
_TRAILER_KEY = r"^[A-Za-z][A-Za-z0-9-]*$"


class AttributionRules(Strict):
    """How the repository wants AI involvement named in commit messages (a trailer)."""

    policy: AttributionPolicy = "none"
    trailer: str = Field(default="", pattern=rf"(?:{_TRAILER_KEY})|^$")
    """With `policy = "custom"`: the trailer's key."""
    value: str = Field(default="", max_length=200)
    """The trailer's value when the blocks record no agent or model (e.g. "aider:gpt-5")."""

    @model_validator(mode="after")
    def _consistent(self) -> AttributionRules:
        if self.policy == "custom" and not self.trailer:
            raise ValueError('policy = "custom" needs `trailer`, the key to write')
        if self.trailer.casefold() in ("co-authored-by", "signed-off-by"):
            raise ValueError(
                f"{self.trailer} is for people: a model cannot co-author or certify the DCO"
            )
        if "\n" in self.value or "\r" in self.value:
            raise ValueError("`value` is one line")
        return self

    @property
    def key(self) -> str | None:
        """The trailer's key, or None when the policy asks for none."""
        return {
            "none": None,
            "assisted-by": "Assisted-by",
            "generated-by": "Generated-by",
            "custom": self.trailer,
        }[self.policy]


class DocsRules(Strict):
    """Where the team reads Handrail's documentation (help links of every report)."""

    url: str = Field(
        default="",
        description="The documentation's root, http(s) only; the code pages are "
        "`<url>/codes/HR300.md`, or `{code}` in the URL is replaced. Empty: the published docs.",
    )

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        from handrail.codes import docs_url_problem

        problem = docs_url_problem(value) if value else None
        if problem is not None:
            raise ValueError(problem)
        return value


class DetectionRules(Strict):
    large_insertion_lines: int = Field(default=15, ge=2)


class Workflow(Strict):
    """The effective rules of one workspace (pack + overrides)."""

    # Sections default through factories: an instance made here, at import, would build
    # its validator before anything asked for one (defer_build above).

    extends: str | None = None
    workflow: WorkflowMeta = Field(default_factory=WorkflowMeta)
    stages: list[Stage] = Field(default_factory=list)
    checkpoints: list[Checkpoint] = Field(default_factory=list)
    spec: SpecRules = Field(default_factory=SpecRules)
    context: ContextRules = Field(default_factory=ContextRules)
    generation: GenerationRules = Field(default_factory=GenerationRules)
    verification: VerificationRules = Field(default_factory=VerificationRules)
    risk_tiers: list[RiskTier] = Field(default_factory=list)
    review: ReviewRules = Field(default_factory=ReviewRules)
    attribution: AttributionRules = Field(default_factory=AttributionRules)
    detection: DetectionRules = Field(default_factory=DetectionRules)
    docs: DocsRules = Field(default_factory=DocsRules)
    severity: dict[str, SeverityName] = Field(default_factory=dict)

    @field_validator("severity")
    @classmethod
    def _known_codes(cls, value: dict[str, SeverityName]) -> dict[str, SeverityName]:
        from handrail.codes import CODES

        for code in value:
            if code not in CODES:
                raise ValueError(f"unknown diagnostic code {code!r}")
        return value

    def severity_of(self, code: str) -> Severity | None:
        """The severity a finding of `code` gets here; None when the team turned it off."""
        from handrail.codes import CODES

        name = self.severity.get(code)
        if name == "off":
            return None
        if name is not None:
            return Severity(name)
        return CODES[code].severity


def _compile(pattern: str) -> None:
    # RE2, as the spec checks match (handrail.workflow.patterns): a pattern only Python's
    # backtracking `re` understands is refused here, with the reason, as HR400.
    compile_pattern(pattern)
