"""Reads for orders that views, tasks and reports share."""
