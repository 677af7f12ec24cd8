"""Validation of what a person typed into analytics forms."""
