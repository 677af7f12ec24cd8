"""Dashboard pages for the category tree and collections (catalog/urls.py includes these)."""

from __future__ import annotations

urlpatterns: list = []
