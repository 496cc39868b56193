import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile
from pathlib import Path
from typing import Dict
from unittest.mock import patch

import hummingbot
from perp_dex_connectors import installer

REPO = Path(__file__).resolve().parents[2]
INSTALLED_PACKAGE = Path(hummingbot.__file__).resolve().parent
# The upstream connector as the venv had it before `make test` linked ours in (kept aside by the installer).
UPSTREAM_LIGHTER = INSTALLED_PACKAGE.parent / installer.STATE_DIR_NAME / "upstream" / "lighter_perpetual"


def _make_hummingbot_tree(root: Path, version_file: str = None) -> Path:
    """A light copy of the installed `hummingbot` package under root: everything is a symlink into the real package
    except the folders the installer writes to, and upstream's lighter_perpetual, which is a real copy."""
    package = root / "hummingbot"
    derivative = package / "connector" / "derivative"
    derivative.mkdir(parents=True)
    for entry in INSTALLED_PACKAGE.iterdir():
        if entry.name not in ("connector", "VERSION"):
            (package / entry.name).symlink_to(entry)
    for entry in (INSTALLED_PACKAGE / "connector").iterdir():
        if entry.name != "derivative":
            (package / "connector" / entry.name).symlink_to(entry)
    for entry in (INSTALLED_PACKAGE / "connector" / "derivative").iterdir():
        if entry.name not in installer.CONNECTORS:
            (derivative / entry.name).symlink_to(entry)
    shutil.copytree(UPSTREAM_LIGHTER, derivative / "lighter_perpetual")
    (package / "VERSION").write_text(version_file or (INSTALLED_PACKAGE / "VERSION").read_text())
    return package


def _wrapper_python(path: Path, python_path: Path = None, extra_flags: str = "") -> str:
    """An interpreter entry point like a venv's or conda env's bin/python, importing Hummingbot from python_path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    env = f'PYTHONPATH="{python_path}${{PYTHONPATH:+:$PYTHONPATH}}" ' if python_path else ""
    path.write_text(f'#!/bin/sh\n{env}exec "{sys.executable}" {extra_flags} "$@"\n')
    path.chmod(0o755)
    return str(path)


def _run_installer(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "perp_dex_connectors", *args], capture_output=True, text=True,
                          cwd=str(REPO), timeout=600)


class InstallerLayoutsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="installer-test-"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def assert_installed(self, package: Path, linked: bool):
        for name in installer.CONNECTORS:
            folder = package / "connector" / "derivative" / name
            source = REPO / "hummingbot" / "connector" / "derivative" / name
            names = sorted(p.name for p in folder.iterdir())
            if linked:
                self.assertEqual(["__init__.py"], names)
                self.assertIn(repr(str(source)), (folder / "__init__.py").read_text())
            else:
                expected = sorted(p.name for p in source.iterdir() if p.name != "__pycache__")
                self.assertEqual(expected, names)
        lighter = package / "connector" / "derivative" / "lighter_perpetual"
        # Upstream's extra modules must not linger next to ours.
        self.assertFalse((lighter / "lighter_perpetual_api_utils.py").exists())
        self.assertFalse((lighter / "lighter_perpetual_order_book.py").exists())

    def assert_upstream_restored(self, package: Path):
        restored = package / "connector" / "derivative" / "lighter_perpetual"
        comparison = filecmp.dircmp(UPSTREAM_LIGHTER, restored)
        self.assertEqual([], comparison.left_only + comparison.right_only + comparison.diff_files)
        for name in comparison.common_files:
            self.assertTrue(filecmp.cmp(UPSTREAM_LIGHTER / name, restored / name, shallow=False), name)
        self.assertFalse((package / "connector" / "derivative" / "extended_perpetual").exists())
        self.assertFalse((package.parent / installer.STATE_DIR_NAME).exists())

    def test_pip_installed_layout_copy_install_and_uninstall(self):
        site_packages = self.tmp / "venv" / "lib" / "python3.12" / "site-packages"
        package = _make_hummingbot_tree(site_packages)
        dist_info = next(INSTALLED_PACKAGE.parent.glob("hummingbot-*.dist-info"))
        shutil.copytree(dist_info, site_packages / dist_info.name)
        python = _wrapper_python(self.tmp / "venv" / "bin" / "python", site_packages)

        result = _run_installer("install", "--python", python, "--no-deps")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn(f"Hummingbot 20260922 at {package}", result.stdout)
        self.assert_installed(package, linked=False)

        # A second install replaces ours and keeps the first upstream backup.
        self.assertEqual(0, _run_installer("install", "--python", python, "--no-deps").returncode)
        self.assert_installed(package, linked=False)

        verify = _run_installer("verify", "--python", python)
        self.assertEqual(0, verify.returncode, verify.stderr)
        for domain in ("lighter_perpetual", "lighter_perpetual_testnet", "extended_perpetual",
                       "extended_perpetual_testnet"):
            self.assertIn(f"{domain}: Derivative connector, utils {package}", verify.stdout)

        result = _run_installer("uninstall", "--python", python)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assert_upstream_restored(package)

        # Upstream's lighter_perpetual is back, but ours are gone: verify says so in one sentence.
        verify = _run_installer("verify", "--python", python)
        self.assertEqual(2, verify.returncode)
        self.assertEqual([f"error: lighter_perpetual and extended_perpetual are not installed in {package}; run "
                          f"`perp-dex-connectors install` first."], verify.stderr.splitlines())

    def test_verify_names_a_connector_that_cannot_be_imported(self):
        tree = self.tmp / "hummingbot-src"
        package = _make_hummingbot_tree(tree)
        self.assertEqual(0, _run_installer("install", "--hummingbot-dir", str(tree), "--no-deps").returncode)
        # As when an exchange SDK is missing: discovery alone would just leave the connector out.
        utils = package / "connector" / "derivative" / "extended_perpetual" / "extended_perpetual_utils.py"
        utils.write_text("import x10_sdk_that_is_not_installed\n" + utils.read_text())

        verify = _run_installer("verify", "--hummingbot-dir", str(tree))
        self.assertEqual(2, verify.returncode)
        self.assertEqual(["error: Hummingbot cannot import extended_perpetual (ModuleNotFoundError: No module named "
                          "'x10_sdk_that_is_not_installed'); if an exchange SDK is missing, run install without "
                          "--no-deps."], verify.stderr.splitlines())

    def test_pip_runs_quietly_and_its_failure_is_one_sentence(self):
        home = self.tmp / "home" / "hummingbot"
        package = _make_hummingbot_tree(home)
        calls = self.tmp / "pip-calls"
        # An interpreter whose pip fails the way pip does when a pinned version cannot be found.
        python = self.tmp / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text(
            f'#!/bin/sh\nif [ "$1 $2" = "-m pip" ]; then echo "$@" >> "{calls}"; echo "Collecting lighter-sdk"; '
            f'echo "ERROR: No matching distribution found for lighter-sdk==1.1.2" >&2; exit 1; fi\n'
            f'exec "{sys.executable}" "$@"\n')
        python.chmod(0o755)

        result = _run_installer("install", "--python", str(python), "--hummingbot-dir", str(home))
        self.assertEqual(2, result.returncode)
        self.assertIn(" -q ", calls.read_text())
        self.assertEqual([f"error: pip could not install lighter-sdk==1.1.2, x10-python-trading-starknet==2.6.0 into "
                          f"{python} (ERROR: No matching distribution found for lighter-sdk==1.1.2)."],
                         result.stderr.splitlines())
        self.assertNotIn("Collecting", result.stdout)
        # The connectors are not put in place when their SDKs could not be installed.
        self.assertTrue((package / "connector" / "derivative" / "lighter_perpetual" /
                         "lighter_perpetual_api_utils.py").exists())

    def test_source_checkout_layout_linked_install(self):
        tree = self.tmp / "hummingbot-src"
        package = _make_hummingbot_tree(tree)

        result = _run_installer("install", "--hummingbot-dir", str(tree), "--link", "--no-deps")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn(f"at {package}", result.stdout)
        self.assert_installed(package, linked=True)
        # The link runs the working tree's __init__.py, which registers the Extended candles feed.
        registered = subprocess.run(
            [sys.executable, "-c", "import hummingbot.connector.derivative.extended_perpetual as package; "
                                   "from hummingbot.data_feed.candles_feed.candles_factory import CandlesFactory; "
                                   "print(package.__file__, 'extended_perpetual' in CandlesFactory._candles_map)"],
            capture_output=True, text=True, cwd=str(self.tmp), env={**os.environ, "PYTHONPATH": str(tree)},
            timeout=120)
        init = REPO / "hummingbot" / "connector" / "derivative" / "extended_perpetual" / "__init__.py"
        self.assertEqual(f"{init} True", registered.stdout.strip(), registered.stderr)

        status = _run_installer("status", "--hummingbot-dir", str(tree))
        self.assertIn("lighter_perpetual: link from", status.stdout)

        self.assertEqual(0, _run_installer("uninstall", "--hummingbot-dir", str(tree)).returncode)
        self.assert_upstream_restored(package)

    def test_docker_image_layout_installs_sdks_into_the_conda_env(self):
        home = self.tmp / "home" / "hummingbot"
        package = _make_hummingbot_tree(home)
        python = _wrapper_python(self.tmp / "opt" / "conda" / "envs" / "hummingbot" / "bin" / "python")

        result = _run_installer("install", "--python", python, "--hummingbot-dir", str(home))
        self.assertEqual(0, result.returncode, result.stderr)
        # The SDK step ran pip quietly in that env (already satisfied here, so nothing is downloaded): one line a step.
        lines = result.stdout.splitlines()
        self.assertEqual(4, len(lines), result.stdout)
        # A source tree reports its VERSION file.
        self.assertEqual(f"Hummingbot {(package / 'VERSION').read_text().strip()} at {package}", lines[0])
        self.assertEqual(f"  exchange SDKs: lighter-sdk==1.1.2, x10-python-trading-starknet==2.6.0 installed with "
                         f"{python} -m pip", lines[1])
        self.assertTrue(lines[2].startswith("  lighter_perpetual: copied from"), lines[2])
        self.assertTrue(lines[3].startswith("  extended_perpetual: copied from"), lines[3])
        self.assert_installed(package, linked=False)

        self.assertEqual(0, _run_installer("uninstall", "--python", python, "--hummingbot-dir", str(home)).returncode)
        self.assert_upstream_restored(package)

    def test_refuses_a_python_without_hummingbot_in_one_sentence(self):
        python = _wrapper_python(self.tmp / "bin" / "python", extra_flags="-S")
        result = _run_installer("install", "--python", python, "--no-deps")
        self.assertEqual(2, result.returncode)
        # One sentence from the installer (a site-less child may add coverage's own warnings when measured).
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        self.assertEqual(1, len(errors))
        self.assertIn(f"No Hummingbot found for {python}", errors[0])
        self.assertNotIn("Traceback", result.stderr)

    def test_refuses_an_unsupported_hummingbot_version(self):
        tree = self.tmp / "old-hummingbot"
        package = _make_hummingbot_tree(tree, version_file="dev-1.27.0")
        result = _run_installer("install", "--hummingbot-dir", str(tree), "--no-deps")
        self.assertEqual(2, result.returncode)
        self.assertIn("Hummingbot dev-1.27.0", result.stderr)
        self.assertIn("is not supported", result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        # Nothing was touched.
        self.assertTrue((package / "connector" / "derivative" / "lighter_perpetual" /
                         "lighter_perpetual_api_utils.py").exists())

    def test_refuses_a_directory_that_is_not_a_source_tree(self):
        result = _run_installer("install", "--hummingbot-dir", str(self.tmp), "--no-deps")
        self.assertEqual(2, result.returncode)
        self.assertIn("is not a Hummingbot source tree", result.stderr)

    def test_uninstall_without_install_is_a_clear_error(self):
        tree = self.tmp / "clean"
        _make_hummingbot_tree(tree)
        result = _run_installer("uninstall", "--hummingbot-dir", str(tree))
        self.assertEqual(2, result.returncode)
        self.assertIn("nothing to uninstall", result.stderr)


class Killed(BaseException):
    """Stands for the process being killed: nothing after it runs, not even the rollback."""


def _snapshot(package: Path) -> Dict[str, str]:
    """Every path the installer may touch, with its type and bytes (files), link target (links) or nothing (folders)."""
    tree = {}
    root = package.parent
    for top in [package / "connector" / "derivative" / name for name in installer.CONNECTORS] + \
            [root / installer.STATE_DIR_NAME]:
        paths = [top] + (sorted(top.rglob("*")) if top.is_dir() and not top.is_symlink() else [])
        for path in paths:
            if path.is_symlink():
                tree[str(path.relative_to(root))] = "link " + os.readlink(path)
            elif path.is_file():
                tree[str(path.relative_to(root))] = "file " + hashlib.sha256(path.read_bytes()).hexdigest()
            elif path.is_dir():
                tree[str(path.relative_to(root))] = "dir"
    return tree


class InstallerTransactionsTest(unittest.TestCase):
    """Each command against a light Hummingbot tree, in-process, with a failure or a kill injected at every step: each
    journal step, each manifest write and, for kills, the tidying before and after the command."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="installer-tx-test-"))
        self.trees = 0

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def new_target(self, installed: str = "") -> installer.HummingbotTarget:
        """A fresh tree with upstream's lighter_perpetual; `installed` ("copy" or "link") installs ours first."""
        self.trees += 1
        package = _make_hummingbot_tree(self.tmp / f"tree-{self.trees}")
        target = installer.HummingbotTarget(python=sys.executable, package_dir=package, version="20260922")
        if installed:
            installer.install(target, link=installed == "link")
        return target

    @staticmethod
    def counting(function_name: str, fail_at: int, error: BaseException):
        """Patches one of the installer's step functions to raise `error` on its call number `fail_at` (from 0)."""
        real = getattr(installer, function_name)
        calls = []

        def counted(*args, **kwargs):
            calls.append(args)
            if len(calls) - 1 == fail_at:
                raise error
            return real(*args, **kwargs)

        return patch.object(installer, function_name, side_effect=counted), calls

    # (command, what is installed before it, how it runs)
    SCENARIOS = (("install", "", lambda target: installer.install(target)),
                 ("install", "", lambda target: installer.install(target, link=True)),
                 ("install", "copy", lambda target: installer.install(target)),
                 ("install", "link", lambda target: installer.install(target)),
                 ("uninstall", "copy", lambda target: installer.uninstall(target)))

    def steps_of(self, installed: str, run, names=("_apply", "_write_state")) -> Dict[str, int]:
        """How many times each step function is called by one successful run."""
        counts = {}
        for name in names:
            target = self.new_target(installed)
            spy, calls = self.counting(name, -1, RuntimeError())
            with spy:
                run(target)
            counts[name] = len(calls)
        return counts

    def test_a_failure_at_any_step_puts_the_tree_back_byte_for_byte(self):
        for command, installed, run in self.SCENARIOS:
            counts = self.steps_of(installed, run)
            self.assertGreaterEqual(counts["_apply"], 3 if command == "uninstall" else 5)
            for function_name, count in counts.items():
                for fail_at in range(count):
                    with self.subTest(command=command, installed=installed, step=f"{function_name}#{fail_at}"):
                        target = self.new_target(installed)
                        before = _snapshot(target.package_dir)
                        failure, _ = self.counting(function_name, fail_at, OSError(28, "No space left on device"))
                        with failure, self.assertRaises(installer.InstallerError) as raised:
                            run(target)
                        message = str(raised.exception)
                        self.assertTrue(message.startswith(f"{command.capitalize()} failed at '"), message)
                        self.assertTrue(message.endswith("(OSError: [Errno 28] No space left on device); everything "
                                                         "was put back as it was."), message)
                        self.assertEqual(before, _snapshot(target.package_dir))
                        # The same command then works, and so does its opposite.
                        self.assertTrue(run(target))
                        if command == "install":
                            self.assertTrue(installer.uninstall(target))
                            self.assertEqual(self.pristine, _snapshot(target.package_dir))
                        else:
                            self.assertTrue(installer.install(target))
                            self.assertEqual(before, _snapshot(target.package_dir))

    def test_a_killed_run_is_reported_and_undone_or_tidied_by_the_next_install_or_uninstall(self):
        for command, installed, run in self.SCENARIOS:
            # _tidy: before the command (nothing pending) and once it is complete.
            counts = self.steps_of(installed, run, ("_apply", "_write_state", "_tidy"))
            for function_name, count in counts.items():
                for fail_at in range(count):
                    for next_command in ("install", "uninstall"):
                        with self.subTest(command=command, installed=installed, step=f"{function_name}#{fail_at}",
                                          then=next_command):
                            self.check_killed_run(installed, run, command, function_name, fail_at, next_command)

    def check_killed_run(self, installed, run, command, function_name, fail_at, next_command):
        target = self.new_target(installed)
        kill, _ = self.counting(function_name, fail_at, Killed())
        with kill, patch.object(installer, "_roll_back"), self.assertRaises(Killed):
            run(target)
        # A kill after the command's last manifest write leaves it complete: only its tidying is left over.
        completed = "pending" not in installer._read_state(target)
        status = installer.status(target)
        self.assertEqual(["lighter_perpetual", "extended_perpetual"], [line.split(":")[0] for line in status[-2:]])
        if not completed:
            self.assertEqual(3, len(status))
            self.assertRegex(status[0], rf"^an earlier {command} was interrupted after \d+ recorded steps; the next "
                                        rf"install or uninstall rolls it back first")
            with self.assertRaises(installer.InstallerError) as refused:
                installer.verify(target)
            self.assertEqual(f"An earlier {command} in {target.package_dir} was interrupted; run `perp-dex-connectors "
                             f"install` (or uninstall), which rolls it back first.", str(refused.exception))

        # What is installed once the interrupted command is rolled back (or, if it completed, kept).
        installed_now = bool(installer._read_manifest(target))
        if next_command == "uninstall" and not installed_now:
            if completed:
                with self.assertRaises(installer.InstallerError):  # nothing was installed and nothing to roll back
                    installer.uninstall(target)
                lines = None
            else:
                lines = installer.uninstall(target)
                self.assertEqual("nothing else to uninstall", lines[1])
        else:
            lines = installer.install(target) if next_command == "install" else installer.uninstall(target)
            if next_command == "install":
                self.assertEqual(["lighter_perpetual", "extended_perpetual"],
                                 [line.split(":")[0] for line in lines[-2:]])
                installer.uninstall(target)
        if lines is not None:
            recovered = [line for line in lines if line.startswith("an interrupted ")]
            self.assertEqual(0 if completed else 1, len(recovered), lines)
            if recovered:
                self.assertRegex(lines[0], rf"^an interrupted {command} was rolled back \(\d+ recorded steps "
                                           rf"undone\)$")
        # Whichever way, the tree ends as it was before anything was installed.
        self.assertEqual(self.pristine, _snapshot(target.package_dir))

    def test_each_command_says_in_one_line_what_it_does_after_a_killed_install(self):
        target = self.new_target()
        kill, _ = self.counting("_apply", 3, Killed())
        with kill, patch.object(installer, "_roll_back"), self.assertRaises(Killed):
            installer.install(target)
        tree = ["--hummingbot-dir", str(target.root)]

        status = _run_installer("status", *tree)
        self.assertEqual(0, status.returncode, status.stderr)
        version = (target.package_dir / "VERSION").read_text().strip()
        self.assertEqual([f"Hummingbot {version} at {target.package_dir}",
                          "  an earlier install was interrupted after 4 recorded steps; the next install or uninstall "
                          "rolls it back first (shown below: the state before it)",
                          "  lighter_perpetual: not installed", "  extended_perpetual: not installed"],
                         status.stdout.splitlines())
        verify = _run_installer("verify", *tree)
        self.assertEqual(2, verify.returncode)
        self.assertEqual([f"error: An earlier install in {target.package_dir} was interrupted; run "
                          f"`perp-dex-connectors install` (or uninstall), which rolls it back first."],
                         verify.stderr.splitlines())
        uninstall = _run_installer("uninstall", *tree)
        self.assertEqual(0, uninstall.returncode, uninstall.stderr)
        self.assertEqual(["  an interrupted install was rolled back (4 recorded steps undone)",
                          "  nothing else to uninstall"], uninstall.stdout.splitlines()[1:])
        self.assertEqual(self.pristine, _snapshot(target.package_dir))
        self.assertEqual(0, _run_installer("install", *tree, "--no-deps").returncode)
        self.assertEqual(0, _run_installer("verify", *tree).returncode)

    def test_a_manifest_written_before_the_journal_is_read_and_uninstalled(self):
        target = self.new_target("copy")
        former = json.dumps(installer._read_manifest(target), indent=2) + "\n"
        target.manifest_path.write_text(former)
        # `make develop` reinstalls over it.
        self.assertEqual(2, len(installer.install(target, link=True)))
        self.assertEqual({"installed"}, set(json.loads(target.manifest_path.read_text())))
        self.assertEqual(0, _run_installer("verify", "--hummingbot-dir", str(target.root)).returncode)
        installer.uninstall(target)
        installer.install(target)
        target.manifest_path.write_text(former)
        self.assertEqual(["lighter_perpetual: copy from", "extended_perpetual: copy from"],
                         [line[:len(line.split(" from ")[0]) + 5] for line in installer.status(target)])
        self.assertEqual(["lighter_perpetual: upstream restored", "extended_perpetual: removed"],
                         installer.uninstall(target))
        self.assertEqual(self.pristine, _snapshot(target.package_dir))

    def test_verify_says_in_one_sentence_when_discovery_gives_no_answer_or_hangs(self):
        target = self.new_target("copy")
        discovery = "Hummingbot's connector discovery"
        answers = {
            "empty output": (subprocess.CompletedProcess([], 0, "", ""), f"{discovery} gave no answer."),
            "no JSON": (subprocess.CompletedProcess([], 0, "Segmentation fault\n", ""), f"{discovery} gave no answer."),
            "silent failure": (subprocess.CompletedProcess([], 1, "", ""), f"{discovery} failed (no output)."),
            "timeout": (subprocess.TimeoutExpired(sys.executable, installer.VERIFY_TIMEOUT),
                        f"{discovery} did not finish within {installer.VERIFY_TIMEOUT} s."),
            "no interpreter": (FileNotFoundError(2, "No such file or directory"),
                               f"Could not run the Python interpreter {sys.executable!r} (FileNotFoundError)."),
        }
        for case, (answer, message) in answers.items():
            with self.subTest(case), patch.object(installer.subprocess, "run", side_effect=[answer]) as run:
                with self.assertRaises(installer.InstallerError) as refused:
                    installer.verify(target)
                self.assertEqual(message, str(refused.exception))
                self.assertEqual(installer.VERIFY_TIMEOUT, run.call_args.kwargs["timeout"])

    @property
    def pristine(self) -> Dict[str, str]:
        if not hasattr(self, "_pristine"):
            self._pristine = _snapshot(self.new_target().package_dir)
        return self._pristine


class WheelPayloadTest(unittest.TestCase):
    def test_wheel_ships_connectors_inside_the_installer_and_installs_them(self):
        with tempfile.TemporaryDirectory() as out:
            out = Path(out)
            # Built from a copy: setuptools leaves build/ behind, and a stale one would leak into later wheels.
            source = out / "source"
            source.mkdir()
            for name in ("setup.py", "pyproject.toml", "README.md"):
                shutil.copy(REPO / name, source / name)
            for name in ("perp_dex_connectors", "hummingbot"):
                shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
            # Not quiet: the build backend's warnings are part of what is checked.
            build = subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out),
                 str(source)], capture_output=True, text=True, timeout=600)
            self.assertEqual(0, build.returncode, build.stderr)
            self.assertNotIn("Warning", build.stdout + build.stderr)
            wheel = zipfile.ZipFile(next(out.glob("*.whl")))
            names = wheel.namelist()
            self.assertFalse([n for n in names if n.startswith(("hummingbot/", "test/", "emulator/"))])
            self.assertIn("perp_dex_connectors/installer.py", names)
            metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
            self.assertIn("License-Expression: Apache-2.0", metadata.splitlines())
            for name in installer.CONNECTORS:
                self.assertIn(f"perp_dex_connectors/connectors/{name}/{name}_utils.py", names)

            # What `pip install .` puts in site-packages, then `perp-dex-connectors install` from there.
            site_packages = out / "site-packages"
            wheel.extractall(site_packages)
            tree = out / "hummingbot-src"
            package = _make_hummingbot_tree(tree)
            result = subprocess.run(
                [sys.executable, "-m", "perp_dex_connectors", "install", "--hummingbot-dir", str(tree), "--no-deps"],
                capture_output=True, text=True, cwd=str(out), env={**os.environ, "PYTHONPATH": str(site_packages)},
                timeout=600)
            self.assertEqual(0, result.returncode, result.stderr)
            payload = site_packages / "perp_dex_connectors" / "connectors" / "lighter_perpetual"
            self.assertIn(f"copied from {payload}", result.stdout)
            utils = package / "connector" / "derivative" / "lighter_perpetual" / "lighter_perpetual_utils.py"
            self.assertEqual((REPO / "hummingbot" / "connector" / "derivative" / "lighter_perpetual" /
                              "lighter_perpetual_utils.py").read_bytes(), utils.read_bytes())


if __name__ == "__main__":
    unittest.main()
