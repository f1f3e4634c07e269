"""CRM clients that live in the Odoo shell (the Odoo CRM writes records, not HTTP)."""

from .odoo_crm import OdooCrmClient
