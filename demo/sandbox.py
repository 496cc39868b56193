"""A throwaway Hummingbot home for the demo and the strategy tests.

Hummingbot keeps its conf/, data/ and logs/ next to the imported `hummingbot` package (`root_path()`, the realpath of
the package's parent folder). A folder holding a real copy of `hummingbot/__init__.py`, with everything else linked
to the installed package, therefore gives a Hummingbot whose configs and trade records live in that folder, leaving
the installed one untouched.
"""
import asyncio
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Dict

import hummingbot

INSTALLED = Path(hummingbot.__file__).resolve().parent
REPO = Path(__file__).resolve().parents[1]


def make_sandbox(root: Path) -> Path:
    package = root / "hummingbot"
    derivative = package / "connector" / "derivative"
    derivative.mkdir(parents=True)
    for entry in INSTALLED.iterdir():
        if entry.name not in ("__init__.py", "connector", "__pycache__"):
            (package / entry.name).symlink_to(entry)
    shutil.copy(INSTALLED / "__init__.py", package / "__init__.py")
    for entry in (INSTALLED / "connector").iterdir():
        if entry.name not in ("derivative", "__pycache__"):
            (package / "connector" / entry.name).symlink_to(entry)
    for entry in (INSTALLED / "connector" / "derivative").iterdir():
        # Our connectors as installed in the development venv (they load from the working tree).
        (derivative / entry.name).symlink_to(entry)
    for folder in ("conf/connectors", "conf/strategies", "conf/scripts", "conf/controllers", "data", "logs"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    # The engine imports v2 scripts from <root>/scripts and controllers from <root>/controllers: the repository's own.
    (root / "scripts").symlink_to(REPO / "scripts")
    (root / "controllers").symlink_to(REPO / "controllers")
    return root


def sandbox_env(root: Path, extra: Dict[str, str] = None) -> Dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("HBOT_PASSWORD", "CONFIG_PASSWORD")}
    env.update(extra or {})
    # The sandbox's `hummingbot` comes first; the repository provides `demo` and `emulator`.
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(REPO)])
    return env


def run_in_sandbox(root: Path, module: str, *args: str, env: Dict[str, str] = None, stdin: str = None,
                   timeout: float = 120):
    """Runs a module in the sandbox; secrets go in `stdin`, never in `args` (any local user can read a command line)."""
    return subprocess.run([sys.executable, "-m", module, *args], cwd=str(root), env=sandbox_env(root, env),
                          input=stdin, capture_output=True, text=True, timeout=timeout)


async def stop_engine(engine: asyncio.subprocess.Process, timeout: float) -> int:
    """SIGTERM lets Hummingbot stop its strategy, which cancels its orders or closes its legs; the engine is killed if
    it does not finish within `timeout` seconds. Returns its exit code."""
    if engine.returncode is None:
        engine.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(engine.wait(), timeout=timeout)
        except asyncio.TimeoutError:
            engine.kill()
            await engine.wait()
    return engine.returncode
