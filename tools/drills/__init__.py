"""Fault drills of tools/fault_drills.py: one module per kind of fault."""
