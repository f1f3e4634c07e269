"""Errors the addon raises on purpose, with the code the API answers with."""

from odoo.exceptions import UserError


class SubscriptionChangeError(UserError):
    """A lifecycle change that cannot be applied; ``code`` is the API's rejection code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message
