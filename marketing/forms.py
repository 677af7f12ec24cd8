"""Validation of what a person typed into marketing forms."""
