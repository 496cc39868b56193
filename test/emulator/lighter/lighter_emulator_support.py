"""Shared set-up for the Lighter emulator tests: a running emulator, an SDK signer for a registered key,
and small HTTP / WS helpers over real sockets."""
import asyncio
import json
import unittest
from decimal import Decimal
from typing import Callable, Optional

import aiohttp
from lighter import SignerClient

from emulator.lighter import LighterEmulator

WS_TIMEOUT_S = 5.0


class EmulatorTestCase(unittest.IsolatedAsyncioTestCase):
    """Starts an emulator, an aiohttp session and one funded account whose API key the SDK signs with."""

    collateral = Decimal("10000")
    api_key_index = 3

    async def asyncSetUp(self):
        self.ex = LighterEmulator(port=0)
        await self.ex.start()
        self.session = aiohttp.ClientSession()
        self.account, self.key, private_key = self.ex.create_account_with_api_key(
            collateral=self.collateral, api_key_index=self.api_key_index)
        self.signer = SignerClient(url=self.ex.rest_url, account_index=self.account,
                                   api_private_keys={self.key: private_key})
        self.nonce = 0
        self.sockets = []

    async def asyncTearDown(self):
        for ws in self.sockets:
            await ws.close()
        await self.signer.close()
        await self.session.close()
        await self.ex.stop()

    # ---- signing -----------------------------------------------------------------------------------------

    def next_nonce(self) -> int:
        nonce, self.nonce = self.nonce, self.nonce + 1
        return nonce

    def sign_order(self, market: int = 0, client_index: int = 1, base: int = 1000, price: int = 249000,
                   is_ask: bool = False, order_type: int = 0, tif: int = 1, reduce_only: bool = False,
                   nonce: Optional[int] = None, **kwargs):
        expiry = 0 if tif == 0 else -1
        tx_type, tx_info, _, error = self.signer.sign_create_order(
            market, client_index, base, price, is_ask, order_type, tif, reduce_only, 0, expiry,
            nonce=self.next_nonce() if nonce is None else nonce, api_key_index=self.key, **kwargs)
        self.assertIsNone(error)
        return tx_type, tx_info

    def sign_cancel(self, index: int, market: int = 0, nonce: Optional[int] = None):
        tx_type, tx_info, _, error = self.signer.sign_cancel_order(
            market, index, nonce=self.next_nonce() if nonce is None else nonce, api_key_index=self.key)
        self.assertIsNone(error)
        return tx_type, tx_info

    def auth_token(self, seconds: int = 600) -> str:
        token, error = self.signer.create_auth_token_with_expiry(seconds, api_key_index=self.key)
        self.assertIsNone(error)
        return token

    # ---- HTTP --------------------------------------------------------------------------------------------

    async def get(self, path: str, params: Optional[dict] = None, headers: Optional[dict] = None):
        async with self.session.get(self.ex.rest_url + path, params=params, headers=headers) as response:
            return response.status, await response.json()

    async def send_tx(self, tx_type: int, tx_info: str, multipart: bool = False):
        if multipart:
            data = aiohttp.FormData(default_to_multipart=True)
            data.add_field("tx_type", str(tx_type))
            data.add_field("tx_info", tx_info)
        else:
            data = {"tx_type": str(tx_type), "tx_info": tx_info}
        async with self.session.post(self.ex.rest_url + "/api/v1/sendTx", data=data) as response:
            return response.status, await response.json()

    async def send_batch(self, txs):
        data = {"tx_types": json.dumps([tx_type for tx_type, _ in txs]),
                "tx_infos": json.dumps([tx_info for _, tx_info in txs])}
        async with self.session.post(self.ex.rest_url + "/api/v1/sendTxBatch", data=data) as response:
            return response.status, await response.json()

    # ---- WS ----------------------------------------------------------------------------------------------

    async def connect(self) -> aiohttp.ClientWebSocketResponse:
        ws = await self.session.ws_connect(self.ex.ws_url)
        self.sockets.append(ws)
        connected = await ws.receive_json(timeout=WS_TIMEOUT_S)
        self.assertEqual("connected", connected["type"])
        return ws

    async def subscribe(self, ws, channel: str, auth: Optional[str] = None) -> dict:
        frame = {"type": "subscribe", "channel": channel}
        if auth is not None:
            frame["auth"] = auth
        await ws.send_json(frame)
        return await ws.receive_json(timeout=WS_TIMEOUT_S)

    async def receive_until(self, ws, predicate: Callable[[dict], bool], timeout: float = WS_TIMEOUT_S) -> dict:
        """Next frame matching `predicate` (others are skipped)."""
        async def wait():
            while True:
                frame = await ws.receive_json()
                if predicate(frame):
                    return frame
        return await asyncio.wait_for(wait(), timeout)


def of_type(kind: str, channel_prefix: str = "") -> Callable[[dict], bool]:
    return lambda frame: frame.get("type") == kind and str(frame.get("channel", "")).startswith(channel_prefix)
