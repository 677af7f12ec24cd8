from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Installed so the project-wide management commands (seed_demo) and tasks are found."""

    name = "config"
    verbose_name = "Store configuration"
