"""Hummingbot's interactive client, started by perp_dex_connectors.client and demo.hummingbot_client, driven through a
pseudo-terminal the way a user types into it; the screen is read through a VT100 emulator (pyte)."""
import fcntl
import json
import os
import pty
import re
import secrets
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unittest
from pathlib import Path
from typing import List, Optional

import pyte
import yaml

from demo.hummingbot_client import EXTENDED_COLLATERAL, LIGHTER_COLLATERAL, MARKER, STRATEGY_FILE

REPO = Path(__file__).resolve().parents[2]
ROWS, COLUMNS = 120, 220
PROMPT_TIMEOUT = 60
COMMAND_TIMEOUT = 30


class Terminal:
    """One command in a pseudo-terminal of ROWS x COLUMNS; `screen` is what a terminal would show."""

    def __init__(self, *argv: str):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        env = {key: value for key, value in os.environ.items() if key not in ("HBOT_PASSWORD", "CONFIG_PASSWORD")}
        env["TERM"] = "xterm-256color"
        self.process = subprocess.Popen([sys.executable, "-m", *argv], stdin=slave, stdout=slave, stderr=slave,
                                        cwd=str(REPO), env=env, start_new_session=True)
        os.close(slave)
        self.screen = pyte.Screen(COLUMNS, ROWS)
        # prompt_toolkit asks where the cursor is; the emulated screen answers, as a terminal does.
        self.screen.write_process_input = lambda answer: os.write(self.master, answer.encode())
        self.stream = pyte.ByteStream(self.screen)
        self.transcript = bytearray()

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the child closed the terminal
            return False
        self.transcript += data
        self.stream.feed(data)
        return bool(data)

    def wait_for(self, pattern: str, timeout: float = COMMAND_TIMEOUT) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.text(), re.MULTILINE)
            if found:
                return found
            if time.monotonic() > deadline or not self._read(min(0.2, max(0.0, deadline - time.monotonic()))):
                raise AssertionError(f"{pattern!r} did not appear within {timeout} s; the screen:\n{self.text()}")

    def type(self, keys: str):
        os.write(self.master, keys.encode())

    def command(self, line: str, until: str, timeout: float = COMMAND_TIMEOUT) -> str:
        """Types a command at the `>>>` prompt and returns the screen once `until` shows. Enter follows once the line
        shows: typed ahead of it, a completion menu opened by its first letter can stay over the output."""
        self.type(line)
        self.wait_for(rf"^\s*>>>\s+{re.escape(line)}\s*$")
        self.type("\r")
        self.wait_for(until, timeout)
        return self.text()

    def exit(self, timeout: float = COMMAND_TIMEOUT) -> int:
        self.type("exit\r")
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline and self._read(0.2):
            pass
        return self.process.wait(timeout=max(0.1, deadline - time.monotonic()))

    def close(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        os.close(self.master)


def set_new_password(terminal: Terminal, password: str):
    """Hummingbot's first-start dialogs: three notices, then the password twice. In its password dialogs Enter
    moves from the field to OK, and a second Enter presses OK."""
    for title in ("Welcome to Hummingbot", "PLEASE READ THIS CAREFULLY", "SET A SECURE PASSWORD"):
        terminal.wait_for(title, PROMPT_TIMEOUT)
        terminal.type("\r")
    terminal.wait_for("Enter your new password:")
    terminal.type(password + "\r\r")
    terminal.wait_for("Please re-enter your password:")
    terminal.type(password + "\r\r")
    terminal.wait_for(r"^\s*>>>\s*$", PROMPT_TIMEOUT)


def rows_after(screen: str, heading: str) -> List[List[str]]:
    """The whitespace-separated rows of the output pane's last block under `heading`, up to the next blank line."""
    lines = screen.splitlines()
    start = max(i for i, line in enumerate(lines) if line.strip().startswith(heading))
    rows = []
    for line in lines[start + 1:]:
        # The log pane fills the right-hand side of the same lines.
        cells = line[:COLUMNS // 2].split()
        if not cells:
            break
        rows.append(cells)
    return rows


class HummingbotClientTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="hummingbot-client-")
        self.home = Path(self.tmp.name) / "home"
        self.password = secrets.token_urlsafe(12)
        self.terminals: List[Terminal] = []

    def tearDown(self):
        for terminal in self.terminals:
            terminal.close()
        self.tmp.cleanup()

    def start(self, module: str, home: Optional[Path] = None) -> Terminal:
        terminal = Terminal(module, "--home", str(home or self.home))
        self.terminals.append(terminal)
        return terminal

    def test_a_fresh_home_asks_for_a_new_password_then_the_next_start_for_it(self):
        first = self.start("perp_dex_connectors.client")
        set_new_password(first, self.password)
        self.assertEqual(0, first.exit())

        # Hummingbot's files are in the chosen home: its root_path() was the home.
        self.assertTrue((self.home / "conf" / ".password_verification").is_file())
        self.assertTrue((self.home / "conf" / "conf_client.yml").is_file())
        self.assertTrue((self.home / "logs" / "logs_hummingbot.log").is_file())

        second = self.start("perp_dex_connectors.client")
        second.wait_for("Welcome back to Hummingbot", PROMPT_TIMEOUT)
        second.wait_for("Enter your password:")
        second.type(self.password + "\r\r")
        second.wait_for(r"^\s*>>>\s*$", PROMPT_TIMEOUT)
        self.assertEqual(0, second.exit())
        for terminal in (first, second):
            self.assertNotIn(self.password.encode(), terminal.transcript)
            self.assertNotIn(b"Traceback", terminal.transcript)

    def test_a_folder_holding_a_hummingbot_package_is_refused(self):
        (self.home / "hummingbot" / "client").mkdir(parents=True)
        refused = subprocess.run([sys.executable, "-m", "perp_dex_connectors.client", "--home", str(self.home)],
                                 cwd=str(REPO), capture_output=True, text=True, timeout=60)
        self.assertEqual(2, refused.returncode)
        self.assertEqual(f"error: {self.home / 'hummingbot'} is a Hummingbot package, not a folder this launcher "
                         f"made: choose another home.\n", refused.stderr)
        self.assertTrue((self.home / "hummingbot" / "client").is_dir())

    def test_emulator_mode_refuses_a_home_it_did_not_make(self):
        (self.home / "conf" / "connectors").mkdir(parents=True)
        (self.home / "conf" / "connectors" / "lighter_perpetual.yml").write_text("real: keys\n")
        refused = subprocess.run([sys.executable, "-m", "demo.hummingbot_client", "--home", str(self.home)],
                                 cwd=str(REPO), capture_output=True, text=True, timeout=60)
        self.assertEqual(2, refused.returncode)
        self.assertIn("was not made by `make hummingbot EMULATOR=1`", refused.stderr)
        self.assertEqual("real: keys\n", (self.home / "conf" / "connectors" / "lighter_perpetual.yml").read_text())

    def test_emulator_mode_shows_both_balances_and_runs_a_strategy(self):
        terminal = self.start("demo.hummingbot_client")
        set_new_password(terminal, self.password)
        self.assertTrue((self.home / MARKER).is_file())

        screen = terminal.command("balance", r"Exchanges Total:")
        extended_rows = rows_after(screen, "extended_perpetual:")
        self.assertEqual(["Asset", "Total", "Total", "($)", "Allocated"], extended_rows[0])
        self.assertEqual(["USD", f"{EXTENDED_COLLATERAL:.4f}"], extended_rows[1][:2])
        self.assertEqual(["USDC", f"{LIGHTER_COLLATERAL:.4f}"], rows_after(screen, "lighter_perpetual:")[1][:2])

        screen = terminal.command("connect", r"^\s*\|\s*xrpl\s*\|")
        for connector in ("extended_perpetual", "lighter_perpetual"):
            self.assertRegex(screen, rf"\|\s*{connector}\s*\|\s*Yes\s*\|\s*Yes\s*\|")

        terminal.command(f"import {STRATEGY_FILE}", r'Enter "start" to start market making')
        terminal.command("start", r"Strategy 'perpetual_market_making' started successfully")
        # Hummingbot's order tracker logs the strategy's first order in the log pane.
        terminal.wait_for(r"Created LIMIT (BUY|SELL) order", PROMPT_TIMEOUT)
        screen = terminal.command("status", r"^\s*Markets:")
        self.assertRegex(screen, r"(?m)^\s*lighter_perpetual\s+ETH-USDC\s")
        terminal.command("stop", r"Canceling outstanding orders|Winding down")
        self.assertEqual(0, terminal.exit())

        # The keys were stored encrypted (Hummingbot's key-file JSON, hex-encoded), never in plain text.
        stored = yaml.safe_load((self.home / "conf" / "connectors" / "lighter_perpetual.yml").read_text())
        self.assertIn("crypto", json.loads(bytes.fromhex(stored["lighter_perpetual_api_private_key"])))
        self.assertNotIn(self.password.encode(), terminal.transcript)
        self.assertNotIn(b"Traceback", terminal.transcript)


if __name__ == "__main__":
    unittest.main()
