"""Reads for analytics that views, tasks and reports share."""
