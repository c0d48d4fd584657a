"""One exception tree for the whole library.

Every error the library raises on purpose derives from :class:`SearchLibError`
and carries a stable, machine-readable ``code``. Callers (the Odoo addons, the
CLI, HTTP handlers) map the tree to UI errors or HTTP statuses in one place::

    SearchLibError
    ├── ConfigError                 bad or inconsistent settings
    ├── InvalidInputError           bad data from a user or a file
    │   ├── DocumentError           a product/rule record that cannot be indexed
    │   └── QueryError              an empty, malformed or unsupported query/filter
    ├── EmbeddingError              an embedding provider failed
    ├── StoreError                  the vector store failed
    │   ├── StoreLockedError        an embedded store is open in another process
    │   ├── StoreUnavailableError   a remote store cannot be reached
    │   └── IndexNotBuiltError      nothing has been indexed for this tenant yet
    ├── LLMError                    a chat-completion provider failed or answered nonsense
    ├── WebhookError
    │   ├── WebhookVerificationError  a signature, timestamp or header is wrong
    │   ├── UnsafeURLError          an outgoing URL targets a forbidden address
    │   └── DeliveryError           an outgoing delivery failed
    └── ChatwootError
        ├── ChatwootPayloadError    a delivery's body is oversized, malformed or incomplete
        ├── ChatwootVerificationError  a delivery's signature, timestamp or account is wrong
        └── ChatwootAPIError        a call to the Chatwoot API failed (``status``, ``retry_after``)
"""

from __future__ import annotations

__all__ = [
    "ChatwootAPIError",
    "ChatwootError",
    "ChatwootPayloadError",
    "ChatwootVerificationError",
    "ConfigError",
    "DeliveryError",
    "DocumentError",
    "EmbeddingError",
    "IndexNotBuiltError",
    "InvalidInputError",
    "LLMError",
    "QueryError",
    "SearchLibError",
    "StoreError",
    "StoreLockedError",
    "StoreUnavailableError",
    "UnsafeURLError",
    "WebhookError",
    "WebhookVerificationError",
]


class SearchLibError(Exception):
    """Base class of every error raised by ``odoo_search_lib``."""

    code = "search_lib_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class ConfigError(SearchLibError):
    """Settings are missing, unknown or inconsistent."""

    code = "config_error"


class InvalidInputError(SearchLibError, ValueError):
    """Input from a user or a file is malformed."""

    code = "invalid_input"


class DocumentError(InvalidInputError):
    """A record cannot be turned into an indexable document.

    ``line`` is the 1-based line number when the record came from a file.
    """

    code = "invalid_document"

    def __init__(self, message: str, *, line: int | None = None, code: str | None = None) -> None:
        if line is not None:
            message = f"line {line}: {message}"
        super().__init__(message, code=code)
        self.line = line


class QueryError(InvalidInputError):
    """A query, limit or filter is empty, malformed or unsupported."""

    code = "invalid_query"


class EmbeddingError(SearchLibError):
    """An embedding provider failed (model missing, server down, bad answer)."""

    code = "embedding_error"


class StoreError(SearchLibError):
    """The vector store failed."""

    code = "store_error"


class StoreLockedError(StoreError):
    """An embedded store directory is already open in another process."""

    code = "store_locked"


class StoreUnavailableError(StoreError):
    """A remote Qdrant server or cluster cannot be reached."""

    code = "store_unavailable"


class IndexNotBuiltError(StoreError):
    """Nothing has been indexed yet for this tenant, kind and model."""

    code = "index_not_built"


class LLMError(SearchLibError):
    """A chat-completion provider failed, timed out or answered something unusable."""

    code = "llm_error"


class WebhookError(SearchLibError):
    """Base class of webhook signing, verification and delivery errors."""

    code = "webhook_error"


class WebhookVerificationError(WebhookError):
    """A webhook's signature, timestamp or headers do not verify."""

    code = "webhook_verification_failed"


class UnsafeURLError(WebhookError):
    """An outgoing URL uses a forbidden scheme or targets a forbidden address."""

    code = "unsafe_url"


class DeliveryError(WebhookError):
    """An outgoing webhook delivery failed (network error or non-2xx answer)."""

    code = "delivery_failed"


class ChatwootError(SearchLibError):
    """Base class of errors about Chatwoot deliveries and the Chatwoot API."""

    code = "chatwoot_error"


class ChatwootPayloadError(ChatwootError, InvalidInputError):
    """A Chatwoot delivery cannot be used: codes ``too_large``, ``not_utf8``, ``bad_json``, ``too_deep``,
    ``bad_payload`` (a required field is missing or has the wrong type)."""

    code = "bad_payload"


class ChatwootVerificationError(ChatwootError):
    """A Chatwoot delivery does not verify: codes ``missing_signature``, ``bad_signature``,
    ``missing_timestamp``, ``bad_timestamp``, ``stale_timestamp``, ``bad_delivery_id``, ``wrong_account``."""

    code = "bad_signature"


class ChatwootAPIError(ChatwootError):
    """A Chatwoot API call failed: codes ``unauthorized``, ``forbidden``, ``not_found``, ``unprocessable``,
    ``rate_limited``, ``unavailable``, ``redirect_refused``, ``timeout``, ``connection_failed``, ``bad_response``.

    ``status`` is the HTTP status (``None`` without an answer); ``retry_after`` the seconds Chatwoot asked to
    wait (429/503 with ``Retry-After``), for the caller to schedule a later attempt. ``uncertain`` is true
    when a message or note may have been stored although the call failed (a timeout or a 5xx after the
    request went out, an answer that cannot be read): sending it again could post it twice.
    """

    code = "chatwoot_api_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        uncertain: bool = False,
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.retry_after = retry_after
        self.uncertain = uncertain
