"""Writes for orders: `<entity>_<verb>(*, ...)` functions, each in its own transaction."""
