"""A streaming client for OpenAI-compatible chat-completions endpoints.

One POST to ``{base_url}/chat/completions`` with ``"stream": true``; the answer arrives as
server-sent events, each ``data:`` line a JSON chunk, ending with ``data: [DONE]``. OpenAI,
Azure's v1 surface, OpenRouter, Ollama, llama.cpp's server, vLLM and LM Studio all speak it.
Every failure becomes a `GenerationError` with a sentence for the user; nothing is retried,
because a retry sends the developer's code again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from handrail.generate.settings import GenerateSettings

SYSTEM_PROMPT = (
    "You write code for a developer who will review and test it. Follow the specification and "
    "the rules in the prompt exactly. Answer with the code in one fenced code block, and keep "
    "any explanation short and outside the block."
)
_CONNECT_TIMEOUT_S = 10.0
_ERROR_BODY_LIMIT = 4096


class GenerationError(Exception):
    """The model could not be asked, or its answer cannot be used; nothing was written."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        """A short stable word for scripts: network, http, rate_limited, timeout, stream,
        refused, truncated, no_code, settings."""


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    finish_reason: str | None
    model: str | None


def stream_chat(
    settings: GenerateSettings,
    prompt: str,
    *,
    temperature: float,
    on_delta: Callable[[str], None] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Answer:
    """Ask the endpoint for an answer to `prompt`, calling `on_delta` with each piece of text."""
    headers = {"Accept": "text/event-stream", "Content-Type": "application/json"}
    key = settings.api_key()
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    body = {
        "model": settings.model,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": prompt},
        ],
        "temperature": temperature,
        "stream": True,
    }
    url = f"{settings.base_url}/chat/completions"
    timeout = httpx.Timeout(settings.timeout_s, connect=min(_CONNECT_TIMEOUT_S, settings.timeout_s))
    # A read timeout only bounds the gap between two chunks; the deadline bounds the whole answer.
    deadline = time.monotonic() + settings.timeout_s
    try:
        with (
            httpx.Client(timeout=timeout, transport=transport, trust_env=True) as client,
            client.stream("POST", url, json=body, headers=headers) as response,
        ):
            if response.status_code != 200:
                raise _http_error(response, url)
            return _read_stream(response, deadline, settings.timeout_s, on_delta)
    except httpx.TimeoutException as exc:
        raise _timeout(settings.timeout_s) from exc
    except httpx.InvalidURL as exc:
        raise GenerationError(
            f"the base_url {settings.base_url!r} is not usable: {exc}", kind="settings"
        ) from exc
    except httpx.HTTPError as exc:
        raise GenerationError(
            f"could not reach {url}: {exc or type(exc).__name__}; check base_url in your "
            "settings and that the server is running",
            kind="network",
        ) from exc


def _timeout(seconds: float) -> GenerationError:
    return GenerationError(
        f"the model did not finish answering within {seconds:g} s; try again, or raise "
        "timeout_s in your settings",
        kind="timeout",
    )


def _http_error(response: httpx.Response, url: str) -> GenerationError:
    detail = _error_detail(response)
    status = response.status_code
    if status == 429:
        wait = response.headers.get("retry-after", "").strip()
        later = f"wait {wait} s and try again" if wait.isdigit() else "wait a moment and try again"
        return GenerationError(
            f"the endpoint is rate limiting requests (HTTP 429){detail}; {later}",
            kind="rate_limited",
        )
    if status in (401, 403):
        return GenerationError(
            f"the endpoint refused the API key (HTTP {status}){detail}; check the variable "
            "named by api_key_env in your settings",
            kind="http",
        )
    if status == 404:
        return GenerationError(
            f"{url} was not found (HTTP 404){detail}; base_url should end with the API "
            "version, e.g. https://api.openai.com/v1, and the model must exist",
            kind="http",
        )
    return GenerationError(f"the endpoint answered HTTP {status}{detail}", kind="http")


def _error_detail(response: httpx.Response) -> str:
    try:
        raw = response.read()[:_ERROR_BODY_LIMIT].decode("utf-8", "replace")
    except httpx.HTTPError:
        return ""
    message: Any = None
    try:
        data = json.loads(raw)
        if isinstance(data, dict):
            error = data.get("error")
            message = error.get("message") if isinstance(error, dict) else error
    except ValueError:
        message = raw.strip()
    if not isinstance(message, str) or not message.strip():
        return ""
    return f": {' '.join(message.split())[:300]}"


def _read_stream(
    response: httpx.Response,
    deadline: float,
    seconds: float,
    on_delta: Callable[[str], None] | None,
) -> Answer:
    pieces: list[str] = []
    refusal: list[str] = []
    finish: str | None = None
    model: str | None = None
    done = False
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            raise _timeout(seconds)
        if not line.startswith("data:"):
            # SSE comments (": keep-alive"), event names and blank separators carry no text.
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            done = True
            break
        chunk = _parse_chunk(payload)
        if isinstance(chunk.get("error"), dict | str):
            error = chunk["error"]
            text = error.get("message", "") if isinstance(error, dict) else error
            raise GenerationError(f"the endpoint reported an error mid-answer: {text}", kind="http")
        model = chunk.get("model") if isinstance(chunk.get("model"), str) else model
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            raise _malformed("a chunk without a choices list")
        for choice in choices:
            if not isinstance(choice, dict):
                raise _malformed("a choice that is not an object")
            delta = choice.get("delta") or {}
            if not isinstance(delta, dict):
                raise _malformed("a delta that is not an object")
            content = delta.get("content")
            if isinstance(content, str) and content:
                pieces.append(content)
                if on_delta is not None:
                    on_delta(content)
            said_no = delta.get("refusal")
            if isinstance(said_no, str) and said_no:
                refusal.append(said_no)
            reason = choice.get("finish_reason")
            if isinstance(reason, str):
                finish = reason
    if refusal or finish == "content_filter":
        why = " ".join("".join(refusal).split())[:300] or "its content filter stopped the answer"
        raise GenerationError(
            f"the model refused to answer: {why}. Reword the spec or check it asks for "
            "something the model may write",
            kind="refused",
        )
    if not done and finish is None:
        raise GenerationError(
            "the answer stopped before the end of the stream (no [DONE]); the connection "
            "may have dropped, try again",
            kind="truncated",
        )
    if finish == "length":
        raise GenerationError(
            "the answer was cut off at the model's length limit; narrow the spec or the "
            "context so the code fits in one answer",
            kind="truncated",
        )
    return Answer("".join(pieces), finish, model)


def _parse_chunk(payload: str) -> dict[str, Any]:
    try:
        chunk = json.loads(payload)
    except ValueError:
        raise _malformed(f"a data line that is not JSON ({payload[:60]!r})") from None
    if not isinstance(chunk, dict):
        raise _malformed("a data line that is not a JSON object")
    return chunk


def _malformed(what: str) -> GenerationError:
    return GenerationError(
        f"the endpoint sent a malformed stream ({what}); is base_url an OpenAI-compatible "
        "chat-completions API?",
        kind="stream",
    )
