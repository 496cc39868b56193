"""Hummingbot's own `hbot connect`, non-interactively, for both connectors against the local exchanges.

`hbot connect <connector> --keys-stdin` reads the keys as a JSON object on stdin and the keystore password from
$HBOT_PASSWORD (stdin already carries the keys, so `--password-stdin` is not offered there). That command checks each
field with the connector's config validator and stores the keys encrypted; it does not reach the exchange. The keys
are tested by the follow-up commands Hummingbot offers: `hbot connect` without a connector (the connections table:
keys confirmed, or the connector's error) and `hbot balance <connector>` (the balances, or
"Error: <connector>: <error> (code 1)"). `balance` runs after every connect, the connections table after the good
keys and after one refused key per connector (each command costs a Hummingbot start-up); `--units-only` keeps
`balance` off the internet (the USD values need the rate oracle).
"""
import asyncio
import json
import secrets
import socket
import subprocess
import sys
import tempfile
import unittest
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Dict, List

from demo.sandbox import make_sandbox, sandbox_env
from emulator.extended import ExtendedEmulator
from emulator.lighter import LighterEmulator
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_transactions import UNAUTHORIZED_MESSAGE

LIGHTER = "lighter_perpetual"
EXTENDED = "extended_perpetual"
LIGHTER_COLLATERAL = Decimal("1234.5")
EXTENDED_COLLATERAL = Decimal("4321.25")
LIGHTER_KEY_INDEX = 2


def closed_port() -> int:
    """A local port nothing listens on: the "unreachable host"."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def table_rows(markdown: str) -> List[Dict[str, str]]:
    """The rows of hbot's Markdown table; continuation lines of a wrapped cell are joined back to it."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    if not lines:
        return []

    def cells(line: str) -> List[str]:
        return [cell.strip() for cell in line.strip().strip("|").split("|")]

    header, rows = cells(lines[0]), []
    for line in lines[2:]:
        values = cells(line)
        if values[0]:
            rows.append(dict(zip(header, values)))
        else:
            for column, value in zip(header, values):
                if value:
                    rows[-1][column] += " " + value
    return rows


class _Home:
    """A throwaway Hummingbot home; runs `python -m hummingbot.cli.main ...` (the `hbot` CLI) inside it."""

    def __init__(self, root: Path, env: Dict[str, str]):
        self.root = make_sandbox(root)
        self.env = env
        self.runs: List[subprocess.CompletedProcess] = []

    def hbot(self, *args: str, keys: dict = None, env: Dict[str, str] = None) -> subprocess.CompletedProcess:
        run = subprocess.run(
            [sys.executable, "-m", "hummingbot.cli.main", *args], cwd=str(self.root),
            env=sandbox_env(self.root, {**self.env, **(env or {})}), input=json.dumps(keys) if keys else "",
            capture_output=True, text=True, timeout=120)
        self.runs.append(run)
        return run

    def check(self, connector: str, env: Dict[str, str] = None, connections: bool = False
              ) -> Dict[str, subprocess.CompletedProcess]:
        runs = {"balance": self.hbot("balance", connector, "--units-only", env=env)}
        if connections:
            runs["connections"] = self.hbot("connect", env=env)
        return runs

    def stored_files_text(self) -> str:
        return "".join(path.read_text(errors="replace") for folder in ("conf", "logs", "data")
                       for path in (self.root / folder).rglob("*") if path.is_file())


class ConnectCliTest(unittest.TestCase):
    results: Dict[str, Dict[str, subprocess.CompletedProcess]] = {}

    @classmethod
    def setUpClass(cls):
        cls.password = secrets.token_urlsafe(16)
        cls.dead_port = closed_port()
        cls._tmp = tempfile.TemporaryDirectory(prefix="hbot-connect-")
        asyncio.run(cls._run_all(Path(cls._tmp.name)))

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    @classmethod
    async def _run_all(cls, tmp: Path):
        async with LighterEmulator(port=0) as lighter, ExtendedEmulator(port=0, hourly_funding=False) as extended:
            # Measured under coverage, the CLI's pandas import warns that NumPy was reloaded; that line is not ours.
            env = {"HBOT_PASSWORD": cls.password, "PYTHONWARNINGS": "ignore::UserWarning:pandas",
                   "LIGHTER_PERPETUAL_REST_URL": lighter.rest_url, "LIGHTER_PERPETUAL_WS_URL": lighter.ws_url,
                   "EXTENDED_PERPETUAL_REST_URL": extended.rest_url, "EXTENDED_PERPETUAL_WS_URL": extended.stream_url}
            cls.lighter_home = _Home(tmp / "lighter", env)
            cls.extended_home = _Home(tmp / "extended", env)
            cls._prepare_lighter(lighter)
            cls._prepare_extended(extended)
            # The CLI runs in subprocesses while this loop serves both exchanges; the two connectors run side by side.
            loop = asyncio.get_running_loop()
            with ThreadPoolExecutor(max_workers=2) as pool:
                await asyncio.gather(loop.run_in_executor(pool, cls._lighter_cases),
                                     loop.run_in_executor(pool, cls._extended_cases))

    # ----- Lighter -----

    @classmethod
    def _prepare_lighter(cls, ex: LighterEmulator):
        cls.lighter_account, key_index, cls.lighter_private_key = ex.create_account_with_api_key(
            collateral=LIGHTER_COLLATERAL, api_key_index=LIGHTER_KEY_INDEX)
        assert key_index == LIGHTER_KEY_INDEX
        cls.lighter_missing_account = cls.lighter_account + 10_000

    @classmethod
    def lighter_keys(cls, **changes) -> dict:
        keys = {"api_private_key": cls.lighter_private_key, "api_key_index": LIGHTER_KEY_INDEX,
                "account_index": cls.lighter_account, "l1_address": "", "account_tier": "Standard",
                "cancel_all_on_stop": "no", "dead_man_switch_seconds": 300, "max_order_age_seconds": 5, **changes}
        return {f"{LIGHTER}_{suffix}": value for suffix, value in keys.items()}

    @classmethod
    def _lighter_cases(cls):
        home, results = cls.lighter_home, cls.results
        dead = {"LIGHTER_PERPETUAL_REST_URL": f"http://127.0.0.1:{cls.dead_port}",
                "LIGHTER_PERPETUAL_WS_URL": f"ws://127.0.0.1:{cls.dead_port}/stream"}
        results["lighter_good"] = {"connect": home.hbot("connect", LIGHTER, "--keys-stdin", keys=cls.lighter_keys()),
                                   **home.check(LIGHTER, connections=True)}
        results["lighter_unreachable"] = home.check(LIGHTER, env=dead)
        for case, changes, connections in (
                ("lighter_unregistered_key_index", {"api_key_index": LIGHTER_KEY_INDEX + 1}, True),
                ("lighter_missing_account", {"account_index": cls.lighter_missing_account}, False)):
            connect = home.hbot("connect", LIGHTER, "--keys-stdin", "--replace", keys=cls.lighter_keys(**changes))
            results[case] = {"connect": connect, **home.check(LIGHTER, connections=connections)}
        results["lighter_malformed_key"] = {"connect": home.hbot(
            "connect", LIGHTER, "--keys-stdin", "--replace", keys=cls.lighter_keys(api_private_key="0x" + "ab" * 20))}

    # ----- Extended -----

    @classmethod
    def _prepare_extended(cls, ex: ExtendedEmulator):
        cls.extended_account = ex.create_account(collateral=EXTENDED_COLLATERAL)
        cls.extended_other_account = ex.create_account(collateral=Decimal("10"))
        cls.unknown_api_key = secrets.token_hex(16)

    @classmethod
    def extended_keys(cls, **changes) -> dict:
        account = cls.extended_account
        keys = {"api_secret": account.api_key, "stark_private_key": account.stark_private_key,
                "stark_public_key": account.stark_public_key, "vault": account.vault, "dead_man_switch_seconds": 60,
                "max_order_age_seconds": 5, **changes}
        return {f"{EXTENDED}_{suffix}": value for suffix, value in keys.items()}

    @classmethod
    def _extended_cases(cls):
        home, results = cls.extended_home, cls.results
        dead = {"EXTENDED_PERPETUAL_REST_URL": f"http://127.0.0.1:{cls.dead_port}/api/v1",
                "EXTENDED_PERPETUAL_WS_URL": f"ws://127.0.0.1:{cls.dead_port}/stream.extended.exchange/v1"}
        results["extended_good"] = {"connect": home.hbot("connect", EXTENDED, "--keys-stdin",
                                                         keys=cls.extended_keys()),
                                    **home.check(EXTENDED, connections=True)}
        results["extended_unreachable"] = home.check(EXTENDED, env=dead)
        for case, changes, connections in (
                ("extended_unknown_api_key", {"api_secret": cls.unknown_api_key}, True),
                ("extended_mismatched_stark_keys", {"stark_public_key": cls.extended_other_account.stark_public_key},
                 False)):
            connect = home.hbot("connect", EXTENDED, "--keys-stdin", "--replace", keys=cls.extended_keys(**changes))
            results[case] = {"connect": connect, **home.check(EXTENDED, connections=connections)}
        results["extended_malformed_stark_key"] = {"connect": home.hbot(
            "connect", EXTENDED, "--keys-stdin", "--replace", keys=cls.extended_keys(stark_private_key="0x12g4"))}

    # ----- assertions -----

    def assert_stored(self, case: str, connector: str):
        connect = self.results[case]["connect"]
        self.assertEqual(0, connect.returncode, connect.stderr)
        self.assertIn(f"- connector: {connector}", connect.stdout)

    def assert_balance(self, case: str, connector: str, asset: str, amount: Decimal):
        balance = self.results[case]["balance"]
        self.assertEqual(0, balance.returncode, balance.stderr)
        self.assertIn(f"## {connector}", balance.stdout)
        rows = {row["asset"]: row for row in table_rows(balance.stdout)}
        self.assertEqual(amount, Decimal(rows[asset]["total"]))
        self.assertEqual(amount, Decimal(rows[asset]["available"]))
        connections = table_rows(self.results[case]["connections"].stdout)
        self.assertEqual([{"connector": connector, "keys_added": "yes", "keys_confirmed": "yes", "error": ""}],
                         connections)

    def assert_refused(self, case: str, connector: str, sentence: str):
        """`balance` fails with the connector's sentence; where the connections table was shown, it is the key's
        error there too."""
        balance = self.results[case]["balance"]
        self.assertEqual(1, balance.returncode)
        self.assertEqual("", balance.stdout)
        self.assertIn(f"Error: {connector}: {sentence} (code 1)", balance.stderr.splitlines())
        connections = self.results[case].get("connections")
        if connections is not None:
            self.assertEqual(0, connections.returncode, connections.stderr)
            self.assertEqual([{"connector": connector, "keys_added": "yes", "keys_confirmed": "no", "error": sentence}],
                             table_rows(connections.stdout))

    def assert_invalid_field(self, case: str, field: str, sentence: str):
        """The validator's sentence, behind Hummingbot's "invalid value for <field>:"."""
        connect = self.results[case]["connect"]
        self.assertEqual(4, connect.returncode)
        self.assertEqual("", connect.stdout)
        self.assertEqual([f"Error: invalid value for {field}: {sentence} (code 4)"],
                         connect.stderr.splitlines())

    # ----- Lighter -----

    def test_lighter_good_keys_show_the_balance(self):
        self.assert_stored("lighter_good", LIGHTER)
        self.assert_balance("lighter_good", LIGHTER, "USDC", LIGHTER_COLLATERAL)

    def test_lighter_unregistered_key_index(self):
        self.assert_stored("lighter_unregistered_key_index", LIGHTER)
        self.assert_refused("lighter_unregistered_key_index", LIGHTER,
                            f"Lighter refused API key {LIGHTER_KEY_INDEX + 1} for account {self.lighter_account}: "
                            f"register the key on Lighter's API keys page, or check the key index and account index.")

    def test_lighter_account_index_that_does_not_exist(self):
        self.assert_refused("lighter_missing_account", LIGHTER,
                            f"Lighter has no account with index {self.lighter_missing_account}; "
                            f"check the account index.")

    def test_lighter_malformed_private_key(self):
        self.assert_invalid_field("lighter_malformed_key", f"{LIGHTER}_api_private_key",
                                  "The API private key must be 80 hexadecimal characters (optionally prefixed with "
                                  "0x), as shown once when the API key was created on Lighter.")

    def test_lighter_unreachable_host(self):
        self.assert_refused("lighter_unreachable", LIGHTER,
                            f"Cannot reach Lighter at http://127.0.0.1:{self.dead_port}: ClientConnectorError.")

    # ----- Extended -----

    def test_extended_good_keys_show_the_balance(self):
        self.assert_stored("extended_good", EXTENDED)
        self.assert_balance("extended_good", EXTENDED, "USD", EXTENDED_COLLATERAL)

    def test_extended_unknown_api_key(self):
        self.assert_stored("extended_unknown_api_key", EXTENDED)
        self.assert_refused("extended_unknown_api_key", EXTENDED, UNAUTHORIZED_MESSAGE)

    def test_extended_malformed_stark_private_key(self):
        self.assert_invalid_field("extended_malformed_stark_key", f"{EXTENDED}_stark_private_key",
                                  "The Stark private key must be 0x followed by up to 64 hexadecimal characters, as "
                                  "shown on Extended's API management page.")

    def test_extended_mismatched_stark_keys(self):
        self.assert_stored("extended_mismatched_stark_keys", EXTENDED)
        self.assert_refused("extended_mismatched_stark_keys", EXTENDED,
                            "The Stark public key does not belong to the Stark private key: copy both keys from the "
                            "same API key on Extended.")

    def test_extended_unreachable_host(self):
        balance = self.results["extended_unreachable"]["balance"]
        self.assertEqual(1, balance.returncode)
        errors = [line for line in balance.stderr.splitlines() if line.startswith("Error: ")]
        self.assertEqual(
            [f"Error: {EXTENDED}: Cannot reach Extended at http://127.0.0.1:{self.dead_port}/api/v1: "
             f"ClientConnectorError. (code 1)"], errors, balance.stderr)

    # ----- every case -----

    def test_no_traceback_and_no_secret_anywhere(self):
        runs = self.lighter_home.runs + self.extended_home.runs
        private_key = self.lighter_private_key
        secret_values = [self.password, private_key, private_key.removeprefix("0x"), self.extended_account.api_key,
                         self.extended_account.stark_private_key, self.extended_account.stark_private_key[2:],
                         self.unknown_api_key]
        # The scan covers the connector configs the keys were stored in (encrypted).
        self.assertTrue((self.lighter_home.root / "conf" / "connectors" / f"{LIGHTER}.yml").is_file())
        self.assertTrue((self.extended_home.root / "conf" / "connectors" / f"{EXTENDED}.yml").is_file())
        stored = self.lighter_home.stored_files_text() + self.extended_home.stored_files_text()
        for run in runs:
            output = run.stdout + run.stderr
            self.assertNotIn("Traceback", output, run.args)
            for secret in secret_values:
                self.assertNotIn(secret, output, run.args)
        for secret in secret_values:
            self.assertNotIn(secret, stored)


if __name__ == "__main__":
    unittest.main()
