"""Writes for analytics: `<entity>_<verb>(*, ...)` functions, each in its own transaction."""
