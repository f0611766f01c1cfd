"""Word statistics for plain text: the example project Handrail's README runs on."""

from collections import Counter


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased, punctuation stripped."""
    cleaned = "".join(ch.lower() if ch.isalnum() or ch.isspace() else " " for ch in text)
    return cleaned.split()


# handrail:begin vbu2ph.1
def top_words(text: str, n: int) -> list[tuple[str, int]]:
    if n < 0:
        raise ValueError("n must not be negative")
    counts = Counter(words(text))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]
# handrail:end vbu2ph.1


# handrail:begin qqpas5.1
def longest_word(text: str) -> str | None:
    candidates = words(text)
    if not candidates:
        return None
    return max(candidates, key=lambda word: (len(word), word))
# handrail:end qqpas5.1
