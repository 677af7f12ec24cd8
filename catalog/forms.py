"""Validation of what a person typed into catalog forms."""
