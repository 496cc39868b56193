"""Shared fixtures for the Extended emulator tests: reference payload loading, shape comparison, signed orders."""
import asyncio
import json
import unittest
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import List, Optional

import aiohttp
from x10.core.stark_account import StarkPerpetualAccount
from x10.models.order import OrderSide, OrderType, TimeInForce
from x10.signing.order_object import create_order_object

from emulator.extended import ExtendedEmulator
from emulator.extended.state import ExchangeState
from test.reference_payloads import PAYLOADS, payload_objects  # noqa: F401 (re-exported)


def _json_kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "null"


def shape_differences(reference, actual, path: str = "$", optional: frozenset = frozenset()) -> List[str]:
    """Keys of `reference` missing from `actual` and JSON type mismatches. A null in the reference matches any
    type or absence; `optional` names keys the exchange only sends when set."""
    problems = []
    ref_kind, act_kind = _json_kind(reference), _json_kind(actual)
    if ref_kind == "null":
        return problems
    if ref_kind != act_kind:
        return [f"{path}: expected {ref_kind}, got {act_kind}"]
    if ref_kind == "object":
        for key, ref_value in reference.items():
            if key not in actual:
                if key not in optional and ref_value is not None:
                    problems.append(f"{path}.{key}: missing")
                continue
            problems.extend(shape_differences(ref_value, actual[key], f"{path}.{key}", optional))
    elif ref_kind == "list" and reference and actual:
        problems.extend(shape_differences(reference[0], actual[0], f"{path}[0]", optional))
    return problems


def signed_order(state: ExchangeState, account: StarkPerpetualAccount, market: str, side: str, qty: str, price: str,
                 **kwargs) -> dict:
    """POST /user/order body built and signed by the x10 SDK exactly as its RestApiClient would send it."""
    kwargs.setdefault("starknet_domain", state.domain)
    kwargs.setdefault("expire_time", datetime.now(tz=timezone.utc) + timedelta(hours=1))
    if kwargs.get("order_type") == OrderType.MARKET:
        kwargs.setdefault("time_in_force", TimeInForce.IOC)
    order = create_order_object(account=account, market=state.market_model(market),
                                amount_of_synthetic=Decimal(qty), price=Decimal(price), side=OrderSide(side),
                                **kwargs)
    return order.to_api_request_json(exclude_none=True)


class EmulatorTestCase(unittest.IsolatedAsyncioTestCase):
    """Starts an emulator with one funded account and an aiohttp session per test."""

    collateral = Decimal("10000")
    emulator_kwargs: dict = {}

    async def asyncSetUp(self):
        # hourly funding off: a test crossing the hour must not see an unexpected settlement
        self.ex = ExtendedEmulator(port=0, rng_seed=7, **{"hourly_funding": False, **self.emulator_kwargs})
        await self.ex.start()
        self.acct = self.ex.create_account(collateral=self.collateral)
        self.stark = self.acct.stark_account()
        self.session = aiohttp.ClientSession()

    async def asyncTearDown(self):
        await self.session.close()
        await self.ex.stop()

    def headers(self, api_key: Optional[str] = None) -> dict:
        return {"X-Api-Key": api_key or self.acct.api_key}

    async def request(self, method: str, path: str, *, api_key: Optional[str] = None, auth: bool = True,
                      **kwargs) -> tuple:
        headers = self.headers(api_key) if auth else {}
        async with self.session.request(method, self.ex.rest_url + path, headers=headers, **kwargs) as response:
            text = await response.text()
            return response.status, json.loads(text) if text else None

    async def get(self, path: str, **kwargs) -> tuple:
        return await self.request("GET", path, **kwargs)

    async def post_order(self, body: dict, api_key: Optional[str] = None) -> tuple:
        return await self.request("POST", "/user/order", json=body, api_key=api_key)

    async def place(self, side: str, qty: str, price: str, market: str = "BTC-USD", **kwargs) -> dict:
        body = signed_order(self.ex.state, self.stark, market, side, qty, price, **kwargs)
        status, body = await self.post_order(body)
        self.assertEqual(200, status, body)
        return body["data"]

    async def open_position(self, side: str, qty: str, price: str, market: str = "BTC-USD") -> dict:
        """Fill a user order against a synthetic resting order placed at `price` first (`price` must not cross
        resting liquidity)."""
        self.ex.synthetic_maker(market, "SELL" if side == "BUY" else "BUY", Decimal(qty), Decimal(price))
        return await self.place(side, qty, price, market)

    def inside_price(self, side: str, market: str = "BTC-USD") -> str:
        """One tick better than the current best price of `side`, still inside the spread."""
        book = self.ex.state.books[market]
        tick = self.ex.state.markets[market].spec.min_price_change
        return str(book.best(side) + tick if side == "BUY" else book.best(side) - tick)

    async def connect(self, path: str, **kwargs) -> aiohttp.ClientWebSocketResponse:
        return await self.session.ws_connect(self.ex.stream_url + path, **kwargs)

    @staticmethod
    async def recv(ws: aiohttp.ClientWebSocketResponse, timeout: float = 2.0) -> dict:
        msg = await asyncio.wait_for(ws.receive(), timeout)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"expected a text frame, got {msg.type}")
        return json.loads(msg.data)

    async def drain(self, ws: aiohttp.ClientWebSocketResponse, idle: float = 0.3) -> List[dict]:
        """Every frame that arrives until the stream stays quiet for `idle` seconds."""
        frames = []
        while True:
            try:
                frames.append(await self.recv(ws, idle))
            except asyncio.TimeoutError:
                return frames

    async def recv_until(self, ws, predicate, timeout: float = 2.0, limit: int = 200) -> dict:
        for _ in range(limit):
            frame = await self.recv(ws, timeout)
            if predicate(frame):
                return frame
        raise AssertionError("expected frame not received")
