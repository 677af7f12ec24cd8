"""Validation of what a person typed into inventory forms."""
