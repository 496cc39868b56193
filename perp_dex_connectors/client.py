"""Hummingbot's interactive client for a pip-installed Hummingbot, with its files in a folder of your choice.

    python -m perp_dex_connectors.client [--home DIR]      (default: ~/.perp-dex-hummingbot)

Hummingbot 20260922's wheel installs `hummingbot_quickstart.py`, which cannot start: it imports `path_util` and
`bin.hummingbot`, which the wheel does not ship. This launcher does what Hummingbot's `bin/hummingbot.py` does, with
the package's own pieces: the login prompt, `bootstrap_application`, the application's prompt and, when `debug_console`
is on, the management console (which needs ptpython: `pip install ".[client]"`).

Hummingbot keeps conf/, logs/, data/, scripts/ and certs/ beside the imported `hummingbot` package (`root_path()`, the
realpath of the package's parent folder). DIR therefore gets a `hummingbot/` folder holding a copy of the installed
package's `__init__.py` and links to everything else; with DIR first on `sys.path`, `root_path()` is DIR.
"""
import argparse
import asyncio
import os
import shutil
import sys
from importlib.machinery import PathFinder
from pathlib import Path
from typing import Callable, Optional

from perp_dex_connectors.installer import CONNECTORS, HummingbotTarget, _read_manifest

DEFAULT_HOME = Path("~/.perp-dex-hummingbot")
FOLDERS = ("conf/connectors", "conf/strategies", "conf/scripts", "conf/controllers", "logs", "data", "scripts",
           "controllers", "certs")
# bin/hummingbot.py's first port for the debug console.
DEBUG_CONSOLE_PORT = 8211


class ClientError(Exception):
    """A problem the user can fix; shown as one sentence, without a traceback."""


def installed_package(home: Path) -> Path:
    """The folder of the `hummingbot` package this Python imports, looked up without importing it (the home's own
    `hummingbot/` folder, if the home is on the path, does not count)."""
    path = [entry for entry in sys.path if Path(entry or ".").resolve() != home]
    spec = PathFinder.find_spec("hummingbot", path)
    if spec is None or spec.origin is None:
        raise ClientError(f"{sys.executable} has no Hummingbot installed; install Hummingbot 20260922 into it first.")
    return Path(spec.origin).resolve().parent


def prepare_home(home: Path) -> Path:
    """Creates the home's folders and (re)builds its `hummingbot/` folder from the installed package, so that it
    follows an upgrade of that package. Returns the package folder it links to."""
    package = installed_package(home)
    shim = home / "hummingbot"
    if shim.exists():
        if any(not entry.is_symlink() and entry.name not in ("__init__.py", "__pycache__") for entry in shim.iterdir()):
            raise ClientError(f"{shim} is a Hummingbot package, not a folder this launcher made: choose another home.")
        shutil.rmtree(shim)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    for folder in FOLDERS:
        (home / folder).mkdir(parents=True, exist_ok=True)
    shim.mkdir()
    shutil.copy(package / "__init__.py", shim / "__init__.py")
    for entry in package.iterdir():
        if entry.name not in ("__init__.py", "__pycache__"):
            (shim / entry.name).symlink_to(entry)
    return package


def check_connectors(package: Path):
    installed = _read_manifest(HummingbotTarget(sys.executable, package, version=""))
    missing = [name for name in CONNECTORS if name not in installed]
    if missing:
        raise ClientError(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed in "
                          f"{package}; run `perp-dex-connectors install` first.")


# Hummingbot is imported inside the functions below: it must be the home's `hummingbot`, on the path once `enter_home`
# has put it there.
async def run_application(client_config_map, secrets_manager) -> None:
    from hummingbot.client.runner import bootstrap_application
    from hummingbot.core.utils import detect_available_port
    from hummingbot.core.utils.async_utils import safe_gather

    hb = await bootstrap_application(client_config_map, secrets_manager)
    if hb is None:
        return
    tasks = [hb.run()]
    if client_config_map.debug_console:
        from hummingbot.core.management.console import start_management_console
        tasks.append(start_management_console({"hb": hb}, host="localhost",
                                              port=detect_available_port(DEBUG_CONSOLE_PORT)))
    await safe_gather(*tasks)


def enter_home(home: Path):
    """Makes `home` this process's Hummingbot root; call it before anything imports `hummingbot`."""
    if "hummingbot" in sys.modules:
        raise RuntimeError("hummingbot was imported before its home was chosen")
    package = prepare_home(home)
    check_connectors(package)
    sys.path.insert(0, str(home))
    os.chdir(home)


def run_client(after_login: Optional[Callable[[], None]] = None) -> int:
    """Runs the client until the user exits; `after_login` runs once the password is accepted."""
    from hummingbot.client.config.config_crypt import ETHKeyFileSecretManger
    from hummingbot.client.config.config_helpers import load_client_config_map_from_file
    from hummingbot.client.ui import login_prompt
    from hummingbot.client.ui.style import load_style

    secrets_manager = login_prompt(ETHKeyFileSecretManger, style=load_style(load_client_config_map_from_file()))
    if secrets_manager is None:
        return 1
    if after_login is not None:
        after_login()
    asyncio.run(run_application(load_client_config_map_from_file(), secrets_manager))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m perp_dex_connectors.client",
                                     description="Hummingbot's interactive client with both perpetual connectors.")
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME,
                        help=f"folder for Hummingbot's conf/, logs/ and data/ (default: {DEFAULT_HOME})")
    args = parser.parse_args(argv)
    try:
        enter_home(args.home.expanduser().resolve())
    except ClientError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return run_client()


if __name__ == "__main__":
    sys.exit(main())
