"""`LighterEmulator`: the aiohttp application (REST + WS) around the exchange state, plus test controls."""
import asyncio
import secrets
from decimal import Decimal
from typing import List, Optional, Tuple

from aiohttp import web

from emulator.lighter import constants as C
from emulator.lighter.engine import FUNDING_INTERVAL_MS, Events, MatchingEngine
from emulator.lighter.faults import Faults
from emulator.lighter.flow import SyntheticFlow
from emulator.lighter.markets import MICRO, MarketSpec, default_markets, to_int
from emulator.lighter.rest import RestApi, json_response
from emulator.lighter.state import Account, ApiKey, ExchangeState, Order, now_ms
from emulator.lighter.txs import TxProcessor
from emulator.lighter.ws import WsHub

HOST = "127.0.0.1"
MAINTENANCE_INTERVAL_S = 0.2
CLOSE_TIMEOUT_S = 2.0


class LighterEmulator:
    """A local Lighter perpetuals venue. Use as `async with LighterEmulator() as ex:` (see package docs)."""

    def __init__(self, port: int = 0, markets: Optional[List[MarketSpec]] = None, latency_ms: int = 0,
                 ws_ping_interval_s: float = 60.0, ws_idle_timeout_s: float = 120.0,
                 funding_interval_s: Optional[float] = 3600.0,
                 min_cancel_all_period_ms: int = C.MIN_ORDER_CANCEL_ALL_PERIOD_MS):
        self.port = port
        self.funding_interval_ms = None if funding_interval_s is None else int(funding_interval_s * 1000)
        self.state = ExchangeState(markets if markets is not None else default_markets())
        self.faults = Faults()
        self.engine = MatchingEngine(self.state, self.faults)
        self.txs = TxProcessor(self.state, self.engine, self.faults)
        self.txs.min_cancel_all_period_ms = min_cancel_all_period_ms
        self.hub = WsHub(self.state, self.engine, self.txs, self.faults, ws_ping_interval_s, ws_idle_timeout_s)
        self.latency_ms = latency_ms
        self.rest = RestApi(self)
        self.flow: Optional[SyntheticFlow] = None
        self._synthetic_taker: Optional[int] = None
        self._runner: Optional[web.AppRunner] = None
        self._tasks: List[asyncio.Task] = []
        round_ms = now_ms() - now_ms() % FUNDING_INTERVAL_MS
        for market in self.state.markets.values():
            market.last_funding_ms = round_ms
        self._next_funding_ms = now_ms() + self.funding_interval_ms if self.funding_interval_ms else None

    @property
    def latency_ms(self) -> int:
        """Added to every REST request and every WebSocket frame a client sends."""
        return self.hub.latency_ms

    @latency_ms.setter
    def latency_ms(self, value: int):
        self.hub.latency_ms = value

    # ---- lifecycle ---------------------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self.rest.middleware], client_max_size=4 * 1024 * 1024)
        self.rest.install(app)
        app.router.add_get("/stream", self.hub.handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        return app

    async def start(self) -> "LighterEmulator":
        self._runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self._tasks = [asyncio.create_task(self._maintenance()), asyncio.create_task(self.hub.keepalive())]
        return self

    async def stop(self):
        if self.flow is not None:
            await self.flow.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        closing = [conn.ws.close() for conn in list(self.hub.connections)]
        if closing:
            await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), CLOSE_TIMEOUT_S)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "LighterEmulator":
        return await self.start()

    async def __aexit__(self, *exc_info):
        await self.stop()

    @property
    def rest_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/stream"

    @staticmethod
    async def _not_found(request: web.Request) -> web.Response:
        return json_response({"code": 404, "message": "page not found"}, status=404)

    async def _maintenance(self):
        while True:
            await asyncio.sleep(MAINTENANCE_INTERVAL_S)
            events = Events()
            self.engine.expire_orders(events)
            if self._next_funding_ms is not None and now_ms() >= self._next_funding_ms:
                self.engine.apply_funding(events)
                self._next_funding_ms += self.funding_interval_ms
            self.hub.publish(events)

    # ---- accounts and keys -------------------------------------------------------------------------------

    def create_account(self, collateral: Decimal = Decimal("10000"), l1_address: Optional[str] = None) -> int:
        """Adds a funded account (USDC collateral) and returns its account index."""
        self.state.next_account_index += 1
        index = self.state.next_account_index
        address = l1_address or "0x" + secrets.token_hex(20)
        self.state.accounts[index] = Account(index=index, l1_address=address, collateral=to_int(collateral, 6),
                                             created_at=now_ms() // 1000)
        return index

    def register_api_key(self, account_index: int, api_key_index: int, public_key: str, nonce: int = 0):
        """Registers an API public key (hex, as lighter's create_api_key returns it); `nonce` is the next nonce."""
        if not 0 <= api_key_index <= C.MAX_API_KEY_INDEX:
            raise ValueError("api_key_index must be within 0..254")
        key = public_key[2:] if public_key.startswith("0x") else public_key
        self.state.accounts[account_index].api_keys[api_key_index] = ApiKey(
            api_key_index=api_key_index, public_key=key, next_nonce=nonce, transaction_time=now_ms() * 1000)

    def create_account_with_api_key(self, collateral: Decimal = Decimal("10000"), api_key_index: int = 2,
                                    l1_address: Optional[str] = None) -> Tuple[int, int, str]:
        """Generates a key pair with the lighter SDK, creates a funded account and registers the key.

        Returns (account_index, api_key_index, private_key).
        """
        from lighter.signer_client import create_api_key
        private_key, public_key, error = create_api_key()
        if error is not None:
            raise RuntimeError(f"lighter create_api_key failed: {error}")
        account_index = self.create_account(collateral=collateral, l1_address=l1_address)
        self.register_api_key(account_index, api_key_index, public_key)
        return account_index, api_key_index, private_key

    def set_collateral(self, account_index: int, collateral: Decimal):
        self.state.accounts[account_index].collateral = to_int(collateral, 6)
        events = Events()
        events.assets.add(account_index)
        events.positions.setdefault(account_index, set())
        self.hub.publish(events)

    # ---- market controls ---------------------------------------------------------------------------------

    def set_index_price(self, market_id: int, price: Decimal):
        """Moves the index (and mark) price used for PnL, margin and funding."""
        market = self.state.markets[market_id]
        market.index_price = market.spec.price_int(price)
        events = Events()
        events.stats_markets.add(market_id)
        for account in self.state.accounts.values():
            pos = account.positions.get(market_id)
            if pos is not None and pos.size:
                events.position(account.index, market_id)
        self.hub.publish(events)

    def set_fees(self, maker: Decimal, taker: Decimal, market_id: Optional[int] = None):
        """Fees as fractions (Decimal("0.0002") == 0.02%), for one market or all."""
        for mid, market in self.state.markets.items():
            if market_id is None or mid == market_id:
                market.spec.maker_fee, market.spec.taker_fee = Decimal(maker), Decimal(taker)

    def set_funding_rate(self, market_id: int, rate_percent: Decimal):
        self.state.markets[market_id].spec.funding_rate = Decimal(rate_percent)

    def apply_funding(self, market_ids: Optional[List[int]] = None):
        """Settles a funding round now (it also happens every `funding_interval_s`)."""
        events = Events()
        self.engine.apply_funding(events, market_ids)
        self.hub.publish(events)

    # ---- direct order entry (no signature), for scenario set-up ----------------------------------------

    def place_order(self, account_index: int, market_id: int, is_ask: bool, size: Decimal, price: Decimal,
                    time_in_force: int = C.TIF_GTT, client_order_index: int = 0, reduce_only: bool = False,
                    order_type: int = C.ORDER_TYPE_LIMIT) -> Order:
        """Places an order for an account as if its tx had been accepted (margin is not checked)."""
        account = self.state.accounts[account_index]
        market = self.state.markets[market_id]
        expiry = 0 if time_in_force == C.TIF_IOC else now_ms() + C.MAX_ORDER_EXPIRY_PERIOD_MS
        self.state.block_height += 1
        order = self.engine.new_order(account, market, client_order_index, market.spec.size_int(size),
                                      market.spec.price_int(price), is_ask, order_type, time_in_force, reduce_only,
                                      expiry)
        events = Events()
        self.engine.place(account, order, events)
        self.hub.publish(events)
        return order

    def submit_taker(self, market_id: int, is_ask: bool, size: Decimal, worst_price: Optional[Decimal] = None,
                     account_index: Optional[int] = None) -> Order:
        """A synthetic market order that trades against the book right now (flow taker account by default)."""
        if account_index is None:
            account_index = self._taker_account()
        market = self.state.markets[market_id]
        if worst_price is None:
            bound = market.index_price * (50 if is_ask else 150) // 100
            worst_price = Decimal(bound) / (10 ** market.spec.price_decimals)
        return self.place_order(account_index, market_id, is_ask, size, worst_price, time_in_force=C.TIF_IOC,
                                order_type=C.ORDER_TYPE_MARKET)

    def _taker_account(self) -> int:
        if self.flow is not None:
            return self.flow.taker_index
        if self._synthetic_taker is None:
            self._synthetic_taker = self.create_account(collateral=Decimal(10 ** 9), l1_address="0x" + "f3" * 20)
        return self._synthetic_taker

    def cancel_order(self, order_index: int):
        order = self.state.orders[order_index]
        events = Events()
        self.engine.cancel(self.state.accounts[order.account_index], order, events)
        self.hub.publish(events)

    # ---- synthetic flow ----------------------------------------------------------------------------------

    async def start_flow(self, rate_per_s: float = 20.0, market_ids: Optional[List[int]] = None, seed: int = 7,
                         taker_share: float = 0.25, publish_each: bool = False) -> SyntheticFlow:
        """Starts synthetic makers/takers (`rate_per_s` actions per second); see `SyntheticFlow`."""
        await self.stop_flow()
        self.flow = SyntheticFlow(self, rate_per_s, market_ids=market_ids, seed=seed, taker_share=taker_share,
                                  publish_each=publish_each)
        self.flow.start()
        return self.flow

    async def stop_flow(self):
        if self.flow is not None:
            await self.flow.stop()

    # ---- truth inspection helpers ------------------------------------------------------------------------

    def book_levels(self, market_id: int, depth: Optional[int] = None) -> dict:
        """{"asks": [(Decimal price, Decimal size)...], "bids": [...]} best first."""
        spec = self.state.markets[market_id].spec
        book = self.engine.books[market_id]

        def convert(levels):
            return [(Decimal(spec.price_str(price)), Decimal(spec.size_str(size))) for price, size in levels]
        return {"asks": convert(book.levels(True, depth)), "bids": convert(book.levels(False, depth))}

    def balance(self, account_index: int) -> Decimal:
        return Decimal(self.state.accounts[account_index].collateral) / MICRO
