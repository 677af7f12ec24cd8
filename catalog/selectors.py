"""Reads for catalog that views, tasks and reports share."""
