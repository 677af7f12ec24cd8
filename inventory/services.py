"""Writes for inventory: `<entity>_<verb>(*, ...)` functions, each in its own transaction."""
