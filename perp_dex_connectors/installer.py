"""Installs the lighter_perpetual and extended_perpetual connectors into an existing Hummingbot.

Hummingbot discovers connectors by scanning ``<root>/hummingbot/connector/derivative/<name>/`` (``root`` being the
folder that holds the imported ``hummingbot`` package), so the connector folders must physically live there. pip cannot
do this cleanly: it would overwrite Hummingbot's own ``lighter_perpetual`` file by file and leave upstream's extra
modules behind.
This installer moves upstream's folder aside whole, puts ours in its place and can restore upstream byte for byte.

It only uses the standard library so it can run from a plain checkout with any Python; the Hummingbot it acts on is the
one that ``--python`` imports (optionally from the source tree given by ``--hummingbot-dir``).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

CONNECTORS = ("lighter_perpetual", "extended_perpetual")
# Release 20260922 on PyPI; its source tree and Docker image carry the same code with VERSION "dev-2.18.0".
SUPPORTED_HUMMINGBOT_VERSIONS = ("20260922", "2.18.0", "dev-2.18.0")
SDK_REQUIREMENTS = ("lighter-sdk==1.1.2", "x10-python-trading-starknet==2.6.0")
STATE_DIR_NAME = ".perp_dex_connectors"
MANIFEST_NAME = "manifest.json"

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
# sends every submodule import to the working tree, so edits are live and module files are the working tree's.
_LINK_INIT = """\"\"\"Development link written by `perp-dex-connectors install --link`.\"\"\"
__path__ = [{source!r}]
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


def _read_manifest(target: HummingbotTarget) -> Dict[str, Dict[str, str]]:
    if not target.manifest_path.is_file():
        return {}
    return json.loads(target.manifest_path.read_text())


def _write_manifest(target: HummingbotTarget, manifest: Dict[str, Dict[str, str]]):
    target.state_dir.mkdir(exist_ok=True)
    target.manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _remove(path: Path):
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


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
    manifest = _read_manifest(target)
    done = []
    for name in CONNECTORS:
        src = source_dir(name)
        if not (src / "__init__.py").is_file():
            raise InstallerError(f"The connector sources for {name} are missing at {src}.")
        if link and "site-packages" in src.parts:
            raise InstallerError("--link needs this repository's working tree; run the installer from a checkout.")
        dest = target.derivative_dir / name
        backup = target.backup_dir / name
        if name in manifest:
            _remove(dest)  # ours from an earlier install: replace it
        elif dest.exists() or dest.is_symlink():
            if backup.exists():
                raise InstallerError(f"{backup} already holds an upstream copy; run uninstall before installing again.")
            target.backup_dir.mkdir(parents=True, exist_ok=True)
            shutil.move(str(dest), str(backup))
        if link:
            dest.mkdir()
            (dest / "__init__.py").write_text(_LINK_INIT.format(source=str(src)))
        else:
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        manifest[name] = {"mode": "link" if link else "copy", "source": str(src),
                          "upstream_backup": str(backup) if backup.exists() else ""}
        done.append(f"{name}: {'linked to' if link else 'copied from'} {src}")
    _write_manifest(target, manifest)
    return done


def uninstall(target: HummingbotTarget) -> List[str]:
    """Removes our connector folders and moves upstream's back where they were."""
    manifest = _read_manifest(target)
    if not manifest:
        raise InstallerError(f"The connectors are not installed in {target.package_dir}; nothing to uninstall.")
    done = []
    for name in list(manifest):
        dest = target.derivative_dir / name
        backup = target.backup_dir / name
        _remove(dest)
        if backup.exists():
            shutil.move(str(backup), str(dest))
            done.append(f"{name}: upstream restored")
        else:
            done.append(f"{name}: removed")
        del manifest[name]
    shutil.rmtree(target.state_dir)
    return done


def verify(target: HummingbotTarget) -> List[str]:
    """Asks Hummingbot's discovery for both connectors and their testnet domains; fails if any is missing."""
    manifest = _read_manifest(target)
    absent = [name for name in CONNECTORS if name not in manifest]
    if absent:
        raise InstallerError(f"{' and '.join(absent)} {'is' if len(absent) == 1 else 'are'} not installed in "
                             f"{target.package_dir}; run `perp-dex-connectors install` first.")
    out = subprocess.run([target.python, "-c", _VERIFY, json.dumps(CONNECTORS)], capture_output=True, text=True,
                         cwd=str(target.root), timeout=300)
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines()
        raise InstallerError(f"Hummingbot's connector discovery failed ({lines[-1] if lines else 'no output'}).")
    rows = json.loads(out.stdout.strip().splitlines()[-1])
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
            manifest = _read_manifest(target)
            for name in CONNECTORS:
                entry = manifest.get(name)
                print(f"{name}: {entry['mode']} from {entry['source']}" if entry else f"{name}: not installed")
            return 0
        if args.action == "install":
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
