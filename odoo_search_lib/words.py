"""Words of real languages, so that typo correction never rewrites a valid word.

A query word the catalogue lacks is a misspelling only if the language lacks it too
("frio" is a word even in a shop that sells no winter clothes). The word lists are
``pyspellchecker``'s frequency dictionaries (Portuguese about 417,000 words, English
about 161,000), folded like every other text here (``manhã`` -> ``manha``).

Each language is read once per process, on first use, by whichever thread needs it
first (the others wait): about 2 s for Portuguese and English together. What is kept
is a sorted array of the words' hashes, about 4 MB for both languages, where a set of
the words themselves would hold about 55 MB in every Odoo worker. A lookup is one
binary search (a few microseconds). Python's ``hash`` of a string is fixed for the
life of a process, which is the life of the array; two different words sharing a
64-bit hash are too unlikely to matter.

A list that cannot be read (package missing, data file damaged) leaves that language
empty with one warning: correction then judges words by the catalogue alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import numpy as np

from .text import fold

__all__ = ["WordList"]

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_loaded: dict[str, np.ndarray] = {}


class WordList:
    """The folded words of one or more languages, loaded lazily and shared by the whole process."""

    def __init__(self, languages: Iterable[str]) -> None:
        self.languages = tuple(dict.fromkeys(languages))

    def __contains__(self, word: object) -> bool:
        """Whether the folded ``word`` is a word of any of the languages."""
        if not isinstance(word, str):
            return False
        key = hash(word)
        for language in self.languages:
            hashes = _hashes(language)
            position = int(np.searchsorted(hashes, key))
            if position < len(hashes) and hashes[position] == key:
                return True
        return False

    def available(self) -> bool:
        """Whether at least one language's list could be read (reads them if not done yet)."""
        return any(len(_hashes(language)) for language in self.languages)


def _hashes(language: str) -> np.ndarray:
    hashes = _loaded.get(language)
    if hashes is None:
        with _lock:
            hashes = _loaded.get(language)
            if hashes is None:
                hashes = _loaded[language] = _read(language)
    return hashes


def _read(language: str) -> np.ndarray:
    try:
        from spellchecker import SpellChecker

        words = SpellChecker(language=language, distance=1).word_frequency.dictionary
        # Most words are plain ASCII, for which lower-casing is folding: a third of the load time saved.
        folded = (word.lower() if word.isascii() else fold(word) for word in words)
        return np.unique(np.fromiter((hash(word) for word in folded), np.int64, len(words)))
    except Exception as error:  # any failure to read a list only weakens correction: never fail a search
        _log.warning(
            "no %r word list (%s: %s): typo correction judges words by the catalogue alone",
            language,
            type(error).__name__,
            error,
        )
        return np.zeros(0, dtype=np.int64)
