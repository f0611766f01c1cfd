from src.wordcount import longest_word, top_words, words


def test_words_strips_punctuation() -> None:
    assert words("Hello, world! Hello.") == ["hello", "world", "hello"]


def test_top_words_orders_by_count_then_word() -> None:
    assert top_words("b a b c a b", 2) == [("b", 3), ("a", 2)]


def test_longest_word_breaks_ties_alphabetically() -> None:
    assert longest_word("bb aa c") == "bb"
    assert longest_word("") is None
