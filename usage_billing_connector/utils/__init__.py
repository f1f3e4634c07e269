"""Helpers of the Odoo shell that are not models."""
