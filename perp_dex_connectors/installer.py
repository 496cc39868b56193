"""Installs the lighter_perpetual and extended_perpetual connectors into an existing Hummingbot.

Hummingbot discovers connectors by scanning ``<root>/hummingbot/connector/derivative/<name>/`` (``root`` being the
folder that holds the imported ``hummingbot`` package), so the connector folders must physically live there. pip cannot
do this cleanly: it would overwrite Hummingbot's own ``lighter_perpetual`` file by file and leave upstream's extra
modules behind.
This installer moves upstream's folder aside whole, puts ours in its place and can restore upstream byte for byte.
Each command is all or nothing: a failure puts every folder back, and a run that was killed half-way is rolled back by
the next install or uninstall (status and verify say so).

It only uses the standard library so it can run from a plain checkout with any Python; the Hummingbot it acts on is the
one that ``--python`` imports (optionally from the source tree given by ``--hummingbot-dir``).
"""
import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

CONNECTORS = ("lighter_perpetual", "extended_perpetual")
# Release 20260922 on PyPI; its source tree and Docker image carry the same code with VERSION "dev-2.18.0".
SUPPORTED_HUMMINGBOT_VERSIONS = ("20260922", "2.18.0", "dev-2.18.0")
SDK_REQUIREMENTS = ("lighter-sdk==1.1.2", "x10-python-trading-starknet==2.6.0")
STATE_DIR_NAME = ".perp_dex_connectors"
MANIFEST_NAME = "manifest.json"
VERIFY_TIMEOUT = 300

_PROBE = """
import importlib.metadata, json, os, sys
try:
    import hummingbot
    if getattr(hummingbot, "__file__", None) is None:
        raise ImportError("only a folder without __init__.py is on the path")
except Exception as e:
    print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
    sys.exit(0)
package_dir = os.path.dirname(os.path.abspath(hummingbot.__file__))
version = None
try:
    dist = importlib.metadata.distribution("hummingbot")
    if os.path.abspath(str(dist.locate_file("hummingbot"))) == package_dir:
        version = dist.version
except importlib.metadata.PackageNotFoundError:
    pass
if version is None:
    try:
        with open(os.path.join(package_dir, "VERSION")) as f:
            version = f.read().strip()
    except OSError:
        version = "unknown"
print(json.dumps({"package_dir": package_dir, "version": version, "python": sys.version.split()[0]}))
"""

# Development install: Hummingbot's discovery needs a real folder with an __init__.py under its own tree, and this one
# sends every submodule import to the working tree, so edits are live and module files are the working tree's; it runs
# the working tree's __init__.py too (which registers the candles feed).
_LINK_INIT = """\"\"\"Development link written by `perp-dex-connectors install --link`.\"\"\"
__path__ = [{source!r}]
__file__ = __path__[0] + "/__init__.py"
with open(__file__) as _init:
    exec(compile(_init.read(), __file__, "exec"))
"""

# Runs Hummingbot's own connector discovery in the target interpreter and reports where each utils module came from.
# Discovery drops a connector whose utils module fails to import without saying why, so the import error is reported.
_VERIFY = """
import importlib, inspect, json, sys
from hummingbot.client.settings import AllConnectorSettings
settings = AllConnectorSettings.create_connector_settings()
rows = []
for name in json.loads(sys.argv[1]):
    try:
        utils = inspect.getfile(importlib.import_module(f"hummingbot.connector.derivative.{name}.{name}_utils"))
    except Exception as e:
        rows.append({"domain": name, "error": f"{type(e).__name__}: {e}"})
        continue
    for domain in (name, name + "_testnet"):
        setting = settings.get(domain)
        rows.append({"domain": domain, "found": setting is not None,
                     "type": setting.type.name if setting else None,
                     "parent": setting.parent_name if setting else None,
                     "utils": utils})
print(json.dumps(rows))
"""


class InstallerError(Exception):
    """A problem the user can fix; its message is shown as one sentence, without a traceback."""


@dataclass
class HummingbotTarget:
    python: str
    package_dir: Path
    version: str

    @property
    def root(self) -> Path:
        return self.package_dir.parent

    @property
    def derivative_dir(self) -> Path:
        return self.package_dir / "connector" / "derivative"

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR_NAME

    @property
    def backup_dir(self) -> Path:
        return self.state_dir / "upstream"

    @property
    def manifest_path(self) -> Path:
        return self.state_dir / MANIFEST_NAME

    @property
    def work_dir(self) -> Path:
        """The running command's new folders before they move in, and the folders it replaces until it completes."""
        return self.state_dir / "work"


def source_dir(name: str) -> Path:
    """Where this installation's copy of a connector lives: the wheel's payload, else the repository's working tree."""
    here = Path(__file__).resolve().parent
    payload = here / "connectors" / name
    if payload.is_dir():
        return payload
    return here.parent / "hummingbot" / "connector" / "derivative" / name


def locate_hummingbot(python: str, hummingbot_dir: Optional[str] = None) -> HummingbotTarget:
    env = dict(os.environ)
    # Not the caller's folder: `python -c` puts it on sys.path, and this repository's hummingbot/ would shadow.
    cwd = tempfile.gettempdir()
    if hummingbot_dir is not None:
        tree = Path(hummingbot_dir).resolve()
        if not (tree / "hummingbot" / "__init__.py").is_file():
            raise InstallerError(f"{tree} is not a Hummingbot source tree: it has no hummingbot/__init__.py.")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
        cwd = str(tree)
    try:
        out = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise InstallerError(f"Could not run the Python interpreter {python!r} ({e.__class__.__name__}).")
    try:
        info = json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise InstallerError(f"The Python interpreter {python!r} did not answer the Hummingbot probe.")
    if "error" in info:
        raise InstallerError(
            f"No Hummingbot found for {python}: importing hummingbot failed ({info['error']}); pass --python with the "
            f"interpreter that runs your Hummingbot, or --hummingbot-dir with its source tree.")
    target = HummingbotTarget(python=python, package_dir=Path(info["package_dir"]), version=info["version"])
    if target.version not in SUPPORTED_HUMMINGBOT_VERSIONS:
        raise InstallerError(
            f"Hummingbot {target.version} at {target.package_dir} is not supported; these connectors support "
            f"Hummingbot {SUPPORTED_HUMMINGBOT_VERSIONS[0]} only.")
    if not target.derivative_dir.is_dir():
        raise InstallerError(f"{target.derivative_dir} does not exist; this Hummingbot installation looks incomplete.")
    return target


# --- state: the manifest and its journal ---------------------------------------------------------------------------
#
# The manifest holds {"installed": {name: entry}} and, while a command runs, {"pending": {...}}: the command, what the
# manifest said before it, and its journal of steps. Every step is written to the journal (atomically) before it is
# taken, and each step is undone by looking at what exists, so a step recorded but never taken (a crash in between)
# undoes as nothing. Nothing is deleted before the command is complete: the folders it replaces wait in the work
# folder. A failure rolls the journal back at once; a killed run is rolled back by the next install or uninstall.

def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _remove(path: Path):
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _read_state(target: HummingbotTarget) -> Dict[str, Any]:
    if not target.manifest_path.is_file():
        return {"installed": {}}
    try:
        state = json.loads(target.manifest_path.read_text())
    except (OSError, ValueError) as e:
        raise InstallerError(f"{target.manifest_path} cannot be read ({e.__class__.__name__}); restore it or move "
                             f"{target.state_dir} aside and reinstall.")
    # A manifest written before the journal existed is the installed table alone.
    return state if "installed" in state else {"installed": state}


def _read_manifest(target: HummingbotTarget) -> Dict[str, Dict[str, str]]:
    """The connectors installed by the last completed command."""
    return _read_state(target)["installed"]


def _write_text_atomically(path: Path, text: str):
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def _write_state(target: HummingbotTarget, state: Dict[str, Any]):
    _write_text_atomically(target.manifest_path, json.dumps(state, indent=2, sort_keys=True) + "\n")


def _apply(step: List[str]):
    """Takes one journal step: ["mkdir", path], ["copy", source, path], ["link", source, path], ["move", from, to]."""
    kind, *paths = step
    if kind == "mkdir":
        os.mkdir(paths[0])
    elif kind == "copy":
        shutil.copytree(paths[0], paths[1], ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    elif kind == "link":
        os.mkdir(paths[1])
        (Path(paths[1]) / "__init__.py").write_text(_LINK_INIT.format(source=paths[0]))
    else:
        shutil.move(paths[0], paths[1])


def _undo(step: List[str]):
    kind, *paths = step
    if kind == "mkdir":
        if os.path.isdir(paths[0]):
            os.rmdir(paths[0])  # empty once the later steps are undone; anything else stops the rollback
    elif kind in ("copy", "link"):
        _remove(Path(paths[1]))
    elif _exists(Path(paths[1])) and not _exists(Path(paths[0])):
        shutil.move(paths[1], paths[0])


def _roll_back(target: HummingbotTarget, pending: Dict[str, Any]):
    for step in reversed(pending["steps"]):
        _undo(step)
    target.manifest_path.with_name(MANIFEST_NAME + ".tmp").unlink(missing_ok=True)
    if pending["previous_manifest"] is None:
        target.manifest_path.unlink(missing_ok=True)
    else:
        _write_text_atomically(target.manifest_path, pending["previous_manifest"])
    if pending["created_state_dir"] and target.state_dir.is_dir():
        target.state_dir.rmdir()


def _tidy(target: HummingbotTarget, state: Dict[str, Any]):
    """After a completed command: the replaced folders go; with nothing installed, so does the state folder."""
    try:
        _remove(target.work_dir)
        if not state["installed"]:
            for empty in (target.backup_dir, target.state_dir):
                if empty.is_dir() and not any(empty.iterdir()):
                    empty.rmdir()
            if target.state_dir.is_dir() and [p.name for p in target.state_dir.iterdir()] == [MANIFEST_NAME]:
                target.manifest_path.unlink()
                target.state_dir.rmdir()
    except OSError as e:
        raise InstallerError(f"Removing the folders the last command replaced, under {target.state_dir}, failed "
                             f"({e}); the next install or uninstall tries again.") from None


def _recover(target: HummingbotTarget) -> Tuple[Dict[str, Any], List[str]]:
    """Rolls back a command that was killed half-way; returns the state before it and what was done, in one line."""
    state = _read_state(target)
    pending = state.pop("pending", None)
    if pending is None:
        _tidy(target, state)
        return state, []
    try:
        _roll_back(target, pending)
    except OSError as e:
        raise InstallerError(f"An earlier {pending['command']} was interrupted and rolling it back failed ({e}); fix "
                             f"that and run the command again.") from None
    return _read_state(target), [f"an interrupted {pending['command']} was rolled back "
                                 f"({len(pending['steps'])} recorded steps undone)"]


@contextlib.contextmanager
def _transaction(target: HummingbotTarget, state: Dict[str, Any], command: str) -> Iterator[Callable[..., None]]:
    """Yields `step(kind, *paths)`; commits the manifest when the block ends, or rolls every step back on failure."""
    previous = target.manifest_path.read_text() if target.manifest_path.is_file() else None
    pending = {"command": command, "previous_manifest": previous, "created_state_dir": not target.state_dir.exists(),
               "steps": []}
    taking = "writing the manifest"

    def step(kind: str, *paths: Path):
        nonlocal taking
        taking = f"{kind} {' to '.join(str(p) for p in paths)}"
        pending["steps"].append([kind, *map(str, paths)])
        _write_state(target, {**state, "pending": pending})
        _apply(pending["steps"][-1])

    try:
        target.state_dir.mkdir(exist_ok=True)
        _write_state(target, {**state, "pending": pending})
        step("mkdir", target.work_dir)
        yield step
        taking = "writing the manifest"
        _write_state(target, state)
    except BaseException as e:
        try:
            _roll_back(target, pending)
        except OSError as undo_error:
            raise InstallerError(
                f"{command.capitalize()} failed at '{taking}' ({e.__class__.__name__}: {e}) and rolling back failed "
                f"too ({undo_error}); the next install or uninstall retries the rollback.") from None
        if not isinstance(e, Exception):
            raise  # Ctrl-C: put back, then stop as asked
        if isinstance(e, InstallerError):
            raise
        raise InstallerError(f"{command.capitalize()} failed at '{taking}' ({e.__class__.__name__}: {e}); everything "
                             f"was put back as it was.") from None
    _tidy(target, state)


def install_sdks(target: HummingbotTarget) -> str:
    """pip installs the exchange SDKs into the target's environment; its output is shown only when it fails."""
    cmd = [target.python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *SDK_REQUIREMENTS]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        errors = [line for line in out.stderr.splitlines() if line.startswith("ERROR:")]
        reason = f" ({errors[-1]})" if errors else ""
        raise InstallerError(f"pip could not install {', '.join(SDK_REQUIREMENTS)} into {target.python}{reason}.")
    return f"exchange SDKs: {', '.join(SDK_REQUIREMENTS)} installed with {target.python} -m pip"


def install(target: HummingbotTarget, link: bool = False) -> List[str]:
    """Puts our connector folders in place, moving any upstream folder aside first. Returns what was done."""
    state, done = _recover(target)
    installed = state["installed"]
    sources = {name: source_dir(name) for name in CONNECTORS}
    for name, src in sources.items():
        if not (src / "__init__.py").is_file():
            raise InstallerError(f"The connector sources for {name} are missing at {src}.")
        if link and "site-packages" in src.parts:
            raise InstallerError("--link needs this repository's working tree; run the installer from a checkout.")
        backup = target.backup_dir / name
        if name not in installed and _exists(target.derivative_dir / name) and _exists(backup):
            raise InstallerError(f"{backup} already holds an upstream copy; run uninstall before installing again.")
    lines = []
    with _transaction(target, state, "install") as step:
        new = dict(installed)
        for name, src in sources.items():
            dest = target.derivative_dir / name
            backup = target.backup_dir / name
            upstream_backup = installed.get(name, {}).get("upstream_backup", "")
            if name in installed:
                if _exists(dest):
                    step("move", dest, target.work_dir / f"replaced-{name}")  # ours from an earlier install
            elif _exists(dest):
                if not target.backup_dir.is_dir():
                    step("mkdir", target.backup_dir)
                step("move", dest, backup)
                upstream_backup = str(backup)
            staged = target.work_dir / name
            step("link" if link else "copy", src, staged)
            step("move", staged, dest)
            new[name] = {"mode": "link" if link else "copy", "source": str(src), "upstream_backup": upstream_backup}
            lines.append(f"{name}: {'linked to' if link else 'copied from'} {src}")
        state["installed"] = new
    return done + lines


def uninstall(target: HummingbotTarget) -> List[str]:
    """Removes our connector folders and moves upstream's back where they were."""
    state, done = _recover(target)
    installed = state["installed"]
    if not installed:
        if done:
            return done + ["nothing else to uninstall"]
        raise InstallerError(f"The connectors are not installed in {target.package_dir}; nothing to uninstall.")
    lines = []
    with _transaction(target, state, "uninstall") as step:
        for name in [n for n in CONNECTORS if n in installed] + [n for n in installed if n not in CONNECTORS]:
            dest = target.derivative_dir / name
            backup = target.backup_dir / name
            if _exists(dest):
                step("move", dest, target.work_dir / f"removed-{name}")
            if _exists(backup):
                step("move", backup, dest)
                lines.append(f"{name}: upstream restored")
            else:
                lines.append(f"{name}: removed")
        state["installed"] = {}
    return done + lines


def status(target: HummingbotTarget) -> List[str]:
    """What is installed; reads only."""
    state = _read_state(target)
    pending = state.get("pending")
    lines = []
    if pending:
        lines.append(f"an earlier {pending['command']} was interrupted after {len(pending['steps'])} recorded steps; "
                     f"the next install or uninstall rolls it back first (shown below: the state before it)")
    for name in CONNECTORS:
        entry = state["installed"].get(name)
        lines.append(f"{name}: {entry['mode']} from {entry['source']}" if entry else f"{name}: not installed")
    return lines


def verify(target: HummingbotTarget) -> List[str]:
    """Asks Hummingbot's discovery for both connectors and their testnet domains; fails if any is missing."""
    state = _read_state(target)
    if "pending" in state:
        raise InstallerError(f"An earlier {state['pending']['command']} in {target.package_dir} was interrupted; run "
                             f"`perp-dex-connectors install` (or uninstall), which rolls it back first.")
    absent = [name for name in CONNECTORS if name not in state["installed"]]
    if absent:
        raise InstallerError(f"{' and '.join(absent)} {'is' if len(absent) == 1 else 'are'} not installed in "
                             f"{target.package_dir}; run `perp-dex-connectors install` first.")
    try:
        out = subprocess.run([target.python, "-c", _VERIFY, json.dumps(CONNECTORS)], capture_output=True, text=True,
                             cwd=str(target.root), timeout=VERIFY_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise InstallerError(f"Hummingbot's connector discovery did not finish within {VERIFY_TIMEOUT} s.") from None
    except OSError as e:
        error = e.__class__.__name__
        raise InstallerError(f"Could not run the Python interpreter {target.python!r} ({error}).") from None
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines()
        raise InstallerError(f"Hummingbot's connector discovery failed ({lines[-1] if lines else 'no output'}).")
    try:
        rows = json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise InstallerError("Hummingbot's connector discovery gave no answer.") from None
    broken = [row for row in rows if "error" in row]
    if broken:
        raise InstallerError(
            f"Hummingbot cannot import {broken[0]['domain']} ({broken[0]['error']}); if an exchange SDK is missing, "
            f"run install without --no-deps.")
    missing = [row["domain"] for row in rows if not row["found"]]
    if missing:
        raise InstallerError(f"Hummingbot's connector discovery does not list {', '.join(missing)}.")
    return [f"{row['domain']}: {row['type']} connector, utils {row['utils']}" for row in rows]


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check"]:
        # The live self-check runs the connectors, so it needs Hummingbot; imported only here.
        from perp_dex_connectors.check import main as check_main
        return check_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="perp-dex-connectors",
        description="Install the lighter_perpetual and extended_perpetual connectors into a Hummingbot installation.")
    parser.add_argument("action", choices=("install", "uninstall", "status", "verify"))
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter that runs your Hummingbot (default: this one), "
                             "e.g. /opt/conda/envs/hummingbot/bin/python in the official Docker image")
    parser.add_argument("--hummingbot-dir", help="Hummingbot source tree, e.g. /home/hummingbot (source or Docker)")
    parser.add_argument("--link", action="store_true",
                        help="link the working tree's connector folders instead of copying them (development)")
    parser.add_argument("--no-deps", action="store_true", help="do not pip install the exchange SDKs")
    args = parser.parse_args(argv)
    try:
        target = locate_hummingbot(args.python, args.hummingbot_dir)
        print(f"Hummingbot {target.version} at {target.package_dir}", flush=True)
        if args.action == "status":
            lines = status(target)
        elif args.action == "install":
            if not args.no_deps:
                print(f"  {install_sdks(target)}", flush=True)
            lines = install(target, link=args.link)
        elif args.action == "verify":
            lines = verify(target)
        else:
            lines = uninstall(target)
    except InstallerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for line in lines:
        print(f"  {line}")
    return 0
