"""Reads for customers that views, tasks and reports share."""
