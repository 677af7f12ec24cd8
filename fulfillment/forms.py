"""Validation of what a person typed into fulfillment forms."""
