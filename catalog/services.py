"""Writes for catalog: `<entity>_<verb>(*, ...)` functions, each in its own transaction."""
