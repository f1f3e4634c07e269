"""Plain-Python core of usage billing: never imports odoo."""
