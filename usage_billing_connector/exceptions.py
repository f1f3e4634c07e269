"""Errors the addon raises on purpose, with the code the API answers with."""

from odoo.exceptions import UserError


class SubscriptionChangeError(UserError):
    """A lifecycle change that cannot be applied; ``code`` is the API's rejection code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class RateLimitExceeded(Exception):
    """An API key sent more requests this minute than it may; retry after ``retry_after`` s."""

    def __init__(self, limit, retry_after):
        super().__init__(
            f"More than {limit} requests per minute for this key; retry in {retry_after} s."
        )
        self.limit = limit
        self.retry_after = retry_after


class ReadApiError(UserError):
    """A read the API answers with an error: HTTP ``status`` and ``code``."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
