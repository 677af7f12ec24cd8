"""Writes for marketing: `<entity>_<verb>(*, ...)` functions, each in its own transaction."""
