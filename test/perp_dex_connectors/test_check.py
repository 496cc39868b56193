"""`perp-dex-connectors check` against the local Lighter and Extended emulators: a green run through the command line
(keys on standard input), and one clear sentence with exit code 1 for each deviation injected at the wire."""
import asyncio
import io
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Callable, Dict, List, Tuple
from unittest import IsolatedAsyncioTestCase
from unittest.mock import patch

import aiohttp
from aiohttp import web
from x10.config import TESTNET_CONFIG

from emulator.extended import ExtendedEmulator
from emulator.lighter import LighterEmulator
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as EXTENDED
from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as LIGHTER
from perp_dex_connectors import check
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_test_helpers import IsolatedConnections

REPO = Path(__file__).resolve().parents[2]
WATCH = "2"
LIGHTER_MARKET = 0


class InjectingProxy:
    """A REST proxy in front of an emulator that adds a field to the JSON answers of one path."""

    def __init__(self, upstream: str, path_suffix: str, inject: Callable[[dict], None]):
        self._upstream = upstream.rstrip("/")
        self._suffix = path_suffix
        self._inject = inject
        self._runner = None
        self.url = ""

    async def start(self, base_path: str = "") -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}{base_path}"
        return self.url

    async def stop(self):
        await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        host = "/".join(self._upstream.split("/")[:3])
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with aiohttp.ClientSession() as session:
            async with session.request(request.method, host + request.rel_url.path_qs, headers=headers,
                                       data=await request.read()) as answer:
                body, status, content_type = await answer.read(), answer.status, answer.content_type
        if status == 200 and request.path.endswith(self._suffix):
            payload = json.loads(body)
            self._inject(payload)
            body = json.dumps(payload).encode()
        return web.Response(body=body, status=status, content_type=content_type)


def problems(output: str) -> List[str]:
    return [line for line in output.splitlines() if line.startswith("PROBLEM:")]


async def run_cli(args: List[str], stdin: str, env: Dict[str, str]) -> Tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "perp_dex_connectors", "check", *args, cwd=str(REPO), env={**os.environ, **env},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 60)
    return process.returncode, out.decode(), err.decode()


class LighterCheckTest(IsolatedConnections, IsolatedAsyncioTestCase):
    connector = "lighter_perpetual_testnet"

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.ex = LighterEmulator(port=0)
        await self.ex.start()
        self.addAsyncCleanup(self.ex.stop)
        maker = self.ex.create_account(collateral=Decimal("1000000"))
        for level in range(5):
            self.ex.place_order(maker, LIGHTER_MARKET, is_ask=False, size=Decimal("2"), price=Decimal(2500 - level))
            self.ex.place_order(maker, LIGHTER_MARKET, is_ask=True, size=Decimal("2"), price=Decimal(2505 + level))
        self.account, self.key_index, self.private_key = self.ex.create_account_with_api_key(
            collateral=Decimal("1000"), api_key_index=4)
        await self.ex.start_flow(rate_per_s=20)
        self.addAsyncCleanup(self.ex.stop_flow)
        self.env = {LIGHTER.REST_URL_ENV_VAR: self.ex.rest_url, LIGHTER.WSS_URL_ENV_VAR: self.ex.ws_url}

    def keys(self) -> Dict[str, object]:
        prefix = self.connector
        return {f"{prefix}_api_private_key": self.private_key, f"{prefix}_api_key_index": self.key_index,
                f"{prefix}_account_index": self.account, f"{prefix}_l1_address": "",
                f"{prefix}_account_tier": "Premium", f"{prefix}_cancel_all_on_stop": False,
                f"{prefix}_dead_man_switch_seconds": 0}  # as read_keys sets it

    async def run_in_process(self, env: Dict[str, str] = None) -> Tuple[int, str]:
        out = io.StringIO()
        with patch.dict(os.environ, env or self.env):
            code = await check.run_check(self.connector, self.keys(), watch=float(WATCH), out=out)
        return code, out.getvalue()

    def frames(self, kind: str):
        return [r for r in self.ex.state.requests if r.transport == "ws" and r.method == kind]

    async def test_green_run_from_the_command_line_with_keys_on_stdin(self):
        # Private key, key index, account index, L1 address (empty), tier; cancel-all-on-stop is never asked.
        stdin = f"{self.private_key}\n{self.key_index}\n{self.account}\n\nPremium\n"
        code, out, err = await run_cli([self.connector, "--watch", WATCH], stdin, self.env)
        self.assertEqual(0, code, out + err)
        self.assertEqual([], problems(out))
        self.assertIn("OK: every check passed.", out)
        for measured in ("created in", "/nextNonce: moved", "jsonapi/sendtxbatch of 2", "echoes its request id",
                         "reconciled:"):
            self.assertIn(measured, out)
        self.assertNotIn(self.private_key, out + err)
        # The exchange's truth: one single and one batch of two, each created and cancelled; nothing left open.
        self.assertEqual(2, len(self.frames(LIGHTER.WS_SEND_TX)))
        self.assertEqual(2, len(self.frames(LIGHTER.WS_SEND_TX_BATCH)))
        self.assertEqual({}, self.ex.state.accounts[self.account].active_orders)
        self.assertEqual(Decimal("1000") * 10 ** 6, self.ex.state.accounts[self.account].collateral)

    async def test_answers_without_id_are_one_problem(self):
        self.ex.faults.answer_ids = False
        code, out = await self.run_in_process()
        self.assertEqual(1, code, out)
        self.assertEqual(1, len(problems(out)), out)
        self.assertIn("4 of 4 WebSocket transaction answers did not echo the request id", problems(out)[0])

    async def test_book_sequence_gap_is_one_problem(self):
        async def skip_while_watching():
            await asyncio.sleep(1.0)
            self.ex.faults.skip_book_update(LIGHTER_MARKET)

        skipper = asyncio.ensure_future(skip_while_watching())
        code, out = await self.run_in_process()
        await skipper
        self.assertEqual(1, code, out)
        self.assertEqual(["PROBLEM: The ETH-USDC order-book stream had 1 sequence gap (the connector resubscribes "
                          "for a fresh snapshot after each)."], problems(out))

    async def test_unknown_field_in_a_rest_payload_is_one_problem(self):
        proxy = InjectingProxy(self.ex.rest_url, LIGHTER.NEXT_NONCE_PATH, lambda body: body.update(shard=7))
        self.addAsyncCleanup(proxy.stop)
        env = dict(self.env, **{LIGHTER.REST_URL_ENV_VAR: await proxy.start()})
        code, out = await self.run_in_process(env)
        self.assertEqual(1, code, out)
        self.assertEqual(["PROBLEM: Lighter's /nextNonce answer carries a field the connector was never checked "
                          "against (shard): check the connector still reads it right."], problems(out))

    async def test_mainnet_refused_without_the_flag_before_any_key_or_request(self):
        out, stdin = io.StringIO(), io.StringIO("must not be read\n")
        with patch.dict(os.environ, self.env):
            code = check.main(["lighter_perpetual", "--watch", WATCH], stdin=stdin, out=out, err=io.StringIO())
        self.assertEqual(1, code)
        refusal = ("PROBLEM: lighter_perpetual trades on Lighter's mainnet: add --mainnet to place and cancel a real "
                   "post-only order there, or check lighter_perpetual_testnet.")
        self.assertEqual([refusal], out.getvalue().splitlines())
        self.assertEqual(0, stdin.tell())
        self.assertEqual([], list(self.ex.state.requests))

    async def test_a_malformed_key_is_one_sentence_that_does_not_echo_it(self):
        bad_key = "ab" * 20
        out = io.StringIO()
        code = check.main([self.connector], stdin=io.StringIO(f"{bad_key}\n4\n{self.account}\n\n\n"), out=out,
                          err=io.StringIO())
        self.assertEqual(1, code)
        self.assertEqual(["PROBLEM: The API private key must be 80 hexadecimal characters (optionally prefixed with "
                          "0x), as shown once when the API key was created on Lighter."], out.getvalue().splitlines())
        self.assertEqual([], list(self.ex.state.requests))


class ExtendedCheckTest(IsolatedConnections, IsolatedAsyncioTestCase):
    connector = "extended_perpetual_testnet"

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.ex = ExtendedEmulator(port=0, rng_seed=11, hourly_funding=False,
                                   starknet_domain=TESTNET_CONFIG.signing.starknet_domain)
        await self.ex.start()
        self.addAsyncCleanup(self.ex.stop)
        self.acct = self.ex.create_account(collateral=Decimal("1000"))
        await self.ex.start_flow(markets=["BTC-USD"], interval=0.1)
        self.addAsyncCleanup(self.ex.stop_flow)
        self.env = {EXTENDED.REST_URL_ENV_VAR: self.ex.rest_url, EXTENDED.WSS_URL_ENV_VAR: self.ex.stream_url}

    def keys(self) -> Dict[str, object]:
        prefix = self.connector
        return {f"{prefix}_api_secret": self.acct.api_key, f"{prefix}_stark_private_key": self.acct.stark_private_key,
                f"{prefix}_stark_public_key": self.acct.stark_public_key, f"{prefix}_vault": self.acct.vault}

    async def run_in_process(self, env: Dict[str, str] = None) -> Tuple[int, str]:
        out = io.StringIO()
        with patch.dict(os.environ, env or self.env):
            code = await check.run_check(self.connector, self.keys(), watch=float(WATCH), out=out)
        return code, out.getvalue()

    async def test_green_run_from_the_command_line_with_keys_on_stdin(self):
        answers = (self.acct.api_key, self.acct.stark_private_key, self.acct.stark_public_key, self.acct.vault)
        stdin = "".join(f"{answer}\n" for answer in answers)
        code, out, err = await run_cli([self.connector, "--watch", WATCH], stdin, self.env)
        self.assertEqual(0, code, out + err)
        self.assertEqual([], problems(out))
        self.assertIn("OK: every check passed.", out)
        self.assertIn("reconciled:", out)
        for secret in (self.acct.api_key, self.acct.stark_private_key):
            self.assertNotIn(secret, out + err)
        orders = [order for order in self.ex.state.orders.values() if order.account_id == self.acct.account_id]
        self.assertEqual(1, len(orders))
        self.assertEqual("CANCELLED", orders[0].status)

    async def test_book_sequence_gap_is_one_problem(self):
        async def gap_while_watching():
            await asyncio.sleep(1.0)
            self.ex.faults.gap_next_orderbook_delta("BTC-USD")

        gapper = asyncio.ensure_future(gap_while_watching())
        code, out = await self.run_in_process()
        await gapper
        self.assertEqual(1, code, out)
        self.assertEqual(["PROBLEM: The BTC-USD order-book stream had 1 sequence gap (the connector resubscribes "
                          "for a fresh snapshot after each)."], problems(out))

    async def test_unknown_field_in_a_rest_payload_is_one_problem(self):
        proxy = InjectingProxy(self.ex.rest_url, EXTENDED.BALANCE_PATH, lambda body: body["data"].update(bonus="1"))
        self.addAsyncCleanup(proxy.stop)
        env = dict(self.env, **{EXTENDED.REST_URL_ENV_VAR: await proxy.start("/api/v1")})
        code, out = await self.run_in_process(env)
        self.assertEqual(1, code, out)
        self.assertEqual(["PROBLEM: Extended's /user/balance answer carries a field the connector was never checked "
                          "against (bonus): check the connector still reads it right."], problems(out))
