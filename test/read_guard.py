"""Proof that the tests read nothing from a folder they must not depend on (in CI, the reference material that sits
beside the clone): with TESTS_FORBIDDEN_DIR naming it, test/conftest.py installs a `ReadGuard` audit hook, and every
open, listing or glob under that folder raises and is recorded, so that a test which catches the error still fails
the session."""
import os
from typing import List

FORBIDDEN_DIR_ENV_VAR = "TESTS_FORBIDDEN_DIR"
# Audit events whose first argument is the path read (https://docs.python.org/3/library/audit_events.html);
# pathlib's glob and rglob raise os.scandir.
PATH_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "glob.glob"})


class ForbiddenRead(RuntimeError):
    pass


class ReadGuard:

    def __init__(self, forbidden_dir: str):
        self.forbidden_dir = os.path.realpath(forbidden_dir)
        self.violations: List[str] = []

    def __call__(self, event: str, args: tuple) -> None:
        if event not in PATH_EVENTS or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
            return  # another event, a file descriptor, or a listing of the current directory
        path = os.path.realpath(os.fsdecode(args[0]))
        if path == self.forbidden_dir or path.startswith(self.forbidden_dir + os.sep):
            self.violations.append(path)
            raise ForbiddenRead(f"Tests must not read {path}: copy what they need into test/fixtures.")
