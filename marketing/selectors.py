"""Reads for marketing that views, tasks and reports share."""
