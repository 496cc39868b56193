import os
import sys

import pytest

from test.read_guard import FORBIDDEN_DIR_ENV_VAR, ReadGuard

_guard = ReadGuard(os.environ[FORBIDDEN_DIR_ENV_VAR]) if os.environ.get(FORBIDDEN_DIR_ENV_VAR) else None
if _guard is not None:
    sys.addaudithook(_guard)


def pytest_terminal_summary(terminalreporter):
    if _guard is not None and _guard.violations:
        terminalreporter.section("reads outside the repository", red=True)
        for path in sorted(set(_guard.violations)):
            terminalreporter.write_line(f"read under {FORBIDDEN_DIR_ENV_VAR}: {path}")


def pytest_sessionfinish(session):
    # A test may catch the ForbiddenRead; the read still fails the run.
    if _guard is not None and _guard.violations:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
