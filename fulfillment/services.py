"""Writes for fulfillment: `<entity>_<verb>(*, ...)` functions, each in its own transaction."""
