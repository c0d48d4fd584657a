"""Text analysis: normalisation, tokenisation, stopwords and Snowball stemming.

The pipeline is the same for documents and queries, so a customer who types
``promocao`` meets a product described as ``Promoção``:

1. Unicode NFKD, combining marks dropped (accent folding), case folded.
2. Tokens are runs of letters and digits; a token that mixes digits and
   letters (``128gb``, ``220v``) also yields its parts (``128``, ``gb``), so
   ``128 GB`` and ``128GB`` meet.
3. Stopwords of the tenant's language are dropped, tokens longer than 40
   characters are dropped (fastembed's limit).
4. The Snowball stemmer of the language reduces the folded token.

Folding before stemming keeps accented and unaccented spellings identical,
which matters more for chat queries than the few suffixes Snowball would
recognise only with accents.
"""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from functools import cache, lru_cache

import snowballstemmer

from .exceptions import ConfigError

__all__ = ["Analyzer", "STOPWORDS", "fold", "tokenize"]

MAX_TOKEN_LENGTH = 40
_TOKEN_RE = re.compile(r"[a-z0-9]+")
_MIXED_RE = re.compile(r"[0-9]+|[a-z]+")

_PT_STOPWORDS = """
a ao aos aquela aquelas aquele aqueles aquilo as ate com como da das de dela delas dele deles depois do dos e
ela elas ele eles em entre era eram essa essas esse esses esta estas este estes eu foi foram ha isso isto ja
la lhe lhes mais mas me mesmo meu meus minha minhas muito na nao nas nem no nos nossa nossas nosso nossos num
numa o os ou para pela pelas pelo pelos por qual quando que quem se sem ser seu seus so sua suas tambem te tem
tu tua tuas um uma umas uns voce voces vos pra pro pras pros vc vcs oi ola bom boa dia tarde noite obrigado
obrigada por favor quero queria gostaria tem tinha algum alguma alguns algumas vcs aqui ai
""".split()

_EN_STOPWORDS = """
a about an and are as at be been but by can could do does for from had has have hi hello i if in into is it
its me my of on or our please so some than that the their them then there these they this those to was we
were what when where which who will with would you your want need looking any
""".split()

STOPWORDS: dict[str, frozenset[str]] = {
    "pt": frozenset(_PT_STOPWORDS),
    "en": frozenset(_EN_STOPWORDS),
}
_STEMMER_NAMES = {"pt": "portuguese", "en": "english"}


@cache
def _combining_marks() -> dict[int, None]:
    """A ``str.translate`` table deleting every combining mark (accents, cedillas) of Unicode, built on
    first use (one pass over Unicode's code points): indexing folds every document's texts, and a
    C-level ``translate`` costs a fraction of testing each character in Python."""
    return dict.fromkeys(code for code in range(sys.maxunicode + 1) if unicodedata.combining(chr(code)))


def fold(text: str) -> str:
    """Lower-case ``text`` and strip accents: ``"Câmera Fotográfica"`` -> ``"camera fotografica"``."""
    if text.isascii():  # NFKD leaves ASCII alone and it has no combining marks
        return text.casefold()
    return unicodedata.normalize("NFKD", text).translate(_combining_marks()).casefold()


def tokenize(text: str) -> list[str]:
    """Split folded ``text`` into word tokens, adding the parts of mixed letter/digit tokens."""
    tokens: list[str] = []
    for token in _TOKEN_RE.findall(fold(text)):
        if len(token) > MAX_TOKEN_LENGTH:
            continue
        tokens.append(token)
        if not token.isalpha() and not token.isdigit():
            tokens.extend(_MIXED_RE.findall(token))
    return tokens


class Analyzer:
    """The per-language pipeline: fold, tokenise, drop stopwords, stem."""

    def __init__(self, language: str = "pt") -> None:
        if language not in _STEMMER_NAMES:
            raise ConfigError(f"unsupported language {language!r} (supported: {', '.join(_STEMMER_NAMES)})")
        self.language = language
        self.stopwords = STOPWORDS[language]
        # The pure-Python Snowball stemmer keeps state in the object: shared by the threads of an
        # Odoo server it returns wrong stems (which the cache would then keep). One lock around the
        # stemmer, none around cache hits.
        stemmer = snowballstemmer.stemmer(_STEMMER_NAMES[language])
        lock = threading.Lock()

        def stem(word: str) -> str:
            with lock:
                return stemmer.stemWord(word)

        self._stem = lru_cache(maxsize=200_000)(stem)

    def words(self, text: str) -> list[str]:
        """Folded tokens without stopwords, unstemmed (for character n-grams)."""
        return [token for token in tokenize(text) if token not in self.stopwords]

    def stem(self, word: str) -> str:
        """The stem of one folded word."""
        return self._stem(word)

    def terms(self, text: str) -> list[str]:
        """Stemmed index terms of ``text``, in order, repeats kept (for BM25)."""
        return [self._stem(word) for word in self.words(text)]
