import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

from test.read_guard import FORBIDDEN_DIR_ENV_VAR, ForbiddenRead, ReadGuard

REPO = Path(__file__).resolve().parents[1]


class ReadGuardTests(unittest.TestCase):

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = Path(tmp.name).resolve()
        self.forbidden = self.tmp / "reference"
        (self.forbidden / "payloads").mkdir(parents=True)
        (self.tmp / "reference2").mkdir()
        self.guard = ReadGuard(str(self.forbidden))

    def test_reads_under_the_folder_raise_and_are_recorded(self):
        inside = str(self.forbidden / "payloads" / "a.txt")
        for event, args in (("open", (inside, "r", 0)), ("open", (Path(inside).as_posix().encode(), "rb", 0)),
                            ("os.scandir", (self.forbidden,)), ("os.listdir", (str(self.forbidden / "payloads"),)),
                            ("glob.glob", (str(self.forbidden / "*.txt"), False)),
                            ("open", (str(self.tmp / "reference2" / ".." / "reference" / "a.txt"), "r", 0))):
            with self.subTest(event=event, path=args[0]), self.assertRaises(ForbiddenRead) as raised:
                self.guard(event, args)
            self.assertIn("copy what they need into test/fixtures", str(raised.exception))
        self.assertEqual(6, len(self.guard.violations))

    def test_a_symlink_into_the_folder_is_caught(self):
        link = self.tmp / "link"
        link.symlink_to(self.forbidden / "payloads")
        with self.assertRaises(ForbiddenRead):
            self.guard("open", (str(link / "a.txt"), "r", 0))

    def test_other_paths_and_events_pass(self):
        for event, args in (("open", (str(self.tmp / "reference2" / "a.txt"), "r", 0)), ("open", (3, "r", 0)),
                            ("os.listdir", (None,)), ("os.remove", (str(self.forbidden / "a.txt"), -1)),
                            ("open", (str(REPO / "test" / "fixtures" / "README.md"), "r", 0))):
            self.guard(event, args)
        self.assertEqual([], self.guard.violations)

    def test_a_caught_read_still_fails_the_session(self):
        """pytest with test/conftest.py as a plugin, on a test that swallows the error: the run fails only when the
        variable names the folder."""
        (self.forbidden / "payloads" / "a.txt").write_text("x")
        (self.tmp / "pytest.ini").write_text("[pytest]\n")
        (self.tmp / "test_reads.py").write_text(textwrap.dedent(f"""
            def test_swallows_the_error():
                try:
                    open({str(self.forbidden / "payloads" / "a.txt")!r}).read()
                except Exception:
                    pass

            def test_reads_elsewhere():
                assert open({str(REPO / "test" / "fixtures" / "README.md")!r}).read()
            """))

        def run(forbidden: str) -> subprocess.CompletedProcess:
            env = {**os.environ, FORBIDDEN_DIR_ENV_VAR: forbidden}
            return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                   "-p", "test.conftest", "-c", str(self.tmp / "pytest.ini"),
                                   str(self.tmp / "test_reads.py")],
                                  cwd=REPO, env=env, capture_output=True, text=True, timeout=120)

        guarded = run(str(self.forbidden))
        self.assertEqual(1, guarded.returncode, guarded.stdout + guarded.stderr)
        self.assertIn("2 passed", guarded.stdout)
        self.assertIn(f"read under {FORBIDDEN_DIR_ENV_VAR}: {self.forbidden / 'payloads' / 'a.txt'}", guarded.stdout)
        unguarded = run("")
        self.assertEqual(0, unguarded.returncode, unguarded.stdout + unguarded.stderr)
