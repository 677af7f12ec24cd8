"""Run the web server, a Celery worker and Celery beat together, for `make run`.

Ctrl-C (or SIGTERM) stops all three; if one of them dies, the others are stopped too,
so a broken worker is never left unnoticed behind a working web server.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from config.seeding import demo_modules


class Command(BaseCommand):
    help = "Start the web server, a Celery worker and beat; Ctrl-C stops all three."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port to serve on")

    def handle(self, *args: object, **options: object) -> None:
        addr = options["addr"]
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", addr],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "2",
            ],
            "beat": [python, "-m", "celery", "-A", "config", "beat", "-l", "info"],
        }
        self._banner(addr)
        processes = {name: subprocess.Popen(command) for name, command in commands.items()}  # noqa: S603
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with code {process.returncode}.")
                        stopping = True
                time.sleep(0.5)
        finally:
            self.stdout.write("Stopping web server, worker and beat...")
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            deadline = time.monotonic() + 15
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()

    def _mail_summary(self) -> str:
        mailer = settings.MAILERS["default"]
        options = mailer.get("OPTIONS", {})
        kind = mailer["BACKEND"].rsplit(".", 2)[-2]
        if "file_path" in options:
            return f"written to files in {options['file_path']}"
        if "host" in options:
            return f"{kind} via {options['host']}:{options['port']}"
        return kind

    def _banner(self, addr: str) -> None:
        base = f"http://{addr}"
        broker = "Redis" if settings.REDIS_URL else f"embedded (files in {settings.BROKER_DIR})"
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        lines = [
            "",
            f"  Storefront:  {base}/",
            f"  Dashboard:   {base}/dashboard/",
        ]
        if settings.DEBUG:
            for module in demo_modules():
                lines += [f"  {line}" for line in getattr(module, "banner", list)()]
        lines += [
            f"  Database:    {database}    Broker: {broker}",
            f"  Mail:        {self._mail_summary()}",
            "  Ctrl-C stops the web server, the worker and beat.",
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
