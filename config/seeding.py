"""The demo-store convention: an app may ship `<app>/demo.py` with

    seed(*, log)     -> load its demo data, idempotently
    banner() -> list  (optional) lines for `make run` to print, such as a demo login

Found through the app registry, in INSTALLED_APPS order (lowest layer first), so config
never imports an app and later apps can build on the data of earlier ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from importlib.util import find_spec
from types import ModuleType

from django.apps import apps


def demo_modules() -> Iterator[ModuleType]:
    for config in apps.get_app_configs():
        name = f"{config.name}.demo"
        if find_spec(name) is not None:
            yield import_module(name)
