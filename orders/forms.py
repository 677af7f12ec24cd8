"""Validation of what a person typed into orders forms."""
