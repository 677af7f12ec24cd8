"""Reads for fulfillment that views, tasks and reports share."""
