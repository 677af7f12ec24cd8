"""Reads for inventory that views, tasks and reports share."""
