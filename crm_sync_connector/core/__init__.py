"""Plain-Python core of CRM sync: never imports odoo."""
