"""odoo_search_lib: hybrid product and business-rule search for Odoo shops.

Dense embeddings + BM25 + character n-grams in Qdrant (embedded by default),
fused and filtered, with description writing, signed webhooks and a Chatwoot
assistant built on top. This package never imports ``odoo``.
"""

from ._version import __version__
from .config import (
    EmbedderSettings,
    EmbeddingCacheSettings,
    LLMSettings,
    SearchSettings,
    Settings,
    StoreSettings,
    SynonymSettings,
)
from .exceptions import (
    ChatwootAPIError,
    ChatwootError,
    ChatwootPayloadError,
    ChatwootVerificationError,
    ConfigError,
    DeliveryError,
    DocumentError,
    EmbeddingError,
    IndexNotBuiltError,
    InvalidInputError,
    LLMError,
    QueryError,
    SearchLibError,
    StoreError,
    StoreLockedError,
    StoreUnavailableError,
    UnsafeURLError,
    WebhookError,
    WebhookVerificationError,
)
from .types import Document, Filters, Hit, RefreshReport, SearchResult, Understood
from .documents import LoadReport, document_from_dict, load_jsonl
from .index import SearchIndex
from .search import HybridSearcher, parse_filters, parse_min_confidence
from .synonyms import SynonymSet, Synonyms
from .understand import ParsedQuery, parse_query

__all__ = [
    "ChatwootAPIError",
    "ChatwootError",
    "ChatwootPayloadError",
    "ChatwootVerificationError",
    "ConfigError",
    "DeliveryError",
    "Document",
    "DocumentError",
    "EmbedderSettings",
    "EmbeddingCacheSettings",
    "EmbeddingError",
    "Filters",
    "Hit",
    "HybridSearcher",
    "IndexNotBuiltError",
    "InvalidInputError",
    "LLMError",
    "LLMSettings",
    "LoadReport",
    "ParsedQuery",
    "QueryError",
    "RefreshReport",
    "SearchIndex",
    "SearchLibError",
    "SearchResult",
    "SearchSettings",
    "Settings",
    "StoreError",
    "StoreLockedError",
    "StoreSettings",
    "StoreUnavailableError",
    "SynonymSet",
    "SynonymSettings",
    "Synonyms",
    "Understood",
    "UnsafeURLError",
    "WebhookError",
    "WebhookVerificationError",
    "__version__",
    "document_from_dict",
    "load_jsonl",
    "parse_filters",
    "parse_min_confidence",
    "parse_query",
]
