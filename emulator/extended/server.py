"""ExtendedEmulator: the aiohttp server, its background clock and the control surface used by tests."""
import asyncio
import random
from decimal import Decimal
from typing import List, Optional

from aiohttp import web
from x10.config import MAINNET_CONFIG
from x10.core.client_config import ClientConfig, EndpointsConfig, SigningConfig, StarknetDomain

from emulator.extended import candle_stream, rest_private, rest_public, streams
from emulator.extended.accounts import DEFAULT_LEVERAGE, DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE, Account
from emulator.extended.app_keys import API_PREFIX, ENGINE, FAULTS, LIMITER, PING_INTERVAL, STATE, STREAM_PREFIX
from emulator.extended.engine import Engine
from emulator.extended.faults import Faults
from emulator.extended.flow import SyntheticFlow
from emulator.extended.fmt import dstr, now_ms
from emulator.extended.hub import StreamHub
from emulator.extended.markets import MARKET_STATUSES, MarketSpec, default_markets, next_funding_time
from emulator.extended.middleware import api_middleware
from emulator.extended.models import Fill, FundingPayment, Order
from emulator.extended.ratelimit import RateLimiter
from emulator.extended.signature import DEFAULT_DOMAIN
from emulator.extended.state import ExchangeState

HOST = "127.0.0.1"
CLOCK_INTERVAL = 0.2
SYNTHETIC_COLLATERAL = Decimal("1000000000000")


class ExtendedEmulator:
    def __init__(self, port: int = 0, markets: Optional[List[MarketSpec]] = None, *,
                 starknet_domain: StarknetDomain = DEFAULT_DOMAIN, rate_limit: Optional[int] = 1000,
                 rate_window: float = 60.0, ping_interval: float = 15.0, seed_book: bool = True,
                 price_interval: float = 1.0, funding_stream_interval: float = 60.0, hourly_funding: bool = True,
                 rng_seed: Optional[int] = None):
        self.hub = StreamHub()
        self.state = ExchangeState(markets if markets is not None else default_markets(), starknet_domain, self.hub)
        self.engine = Engine(self.state)
        self.faults = Faults(self.hub)
        self.limiter = RateLimiter(rate_limit, rate_window)
        self._port = port
        self._ping_interval = ping_interval
        self._seed_book = seed_book
        self._price_interval = price_interval
        self._funding_stream_interval = funding_stream_interval
        self._hourly_funding = hourly_funding
        self._runner: Optional[web.AppRunner] = None
        self._clock: Optional[asyncio.Task] = None
        maker = self.state.create_account(SYNTHETIC_COLLATERAL, maker_fee=Decimal(0), taker_fee=Decimal(0),
                                          synthetic=True)
        taker = self.state.create_account(SYNTHETIC_COLLATERAL, maker_fee=Decimal(0), taker_fee=Decimal(0),
                                          synthetic=True)
        self.flow = SyntheticFlow(self.state, self.engine, maker, taker, random.Random(rng_seed))

    # ----- lifecycle -----
    async def start(self) -> "ExtendedEmulator":
        app = web.Application(middlewares=[api_middleware])
        app[STATE] = self.state
        app[ENGINE] = self.engine
        app[FAULTS] = self.faults
        app[LIMITER] = self.limiter
        app[PING_INTERVAL] = self._ping_interval
        rest_public.add_routes(app, API_PREFIX)
        rest_private.add_routes(app, API_PREFIX)
        streams.add_routes(app)
        candle_stream.add_routes(app)
        if self._seed_book:
            for name in self.state.markets:
                self.flow.requote(name)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self._port)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._clock = asyncio.get_running_loop().create_task(self._run_clock())
        return self

    async def stop(self):
        await self.flow.stop()
        if self._clock is not None:
            self._clock.cancel()
            await asyncio.gather(self._clock, return_exceptions=True)
            self._clock = None
        if self._runner is not None:
            self.hub.close()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "ExtendedEmulator":
        return await self.start()

    async def __aexit__(self, *exc_info):
        await self.stop()

    # ----- addresses -----
    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self._port}"

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def stream_url(self) -> str:
        return f"ws://{HOST}:{self._port}{STREAM_PREFIX}"

    def client_config(self) -> ClientConfig:
        """An x10 ClientConfig whose endpoints point at this emulator (mainnet-shaped paths and signing domain)."""
        return ClientConfig(
            defaults=MAINNET_CONFIG.defaults,
            signing=SigningConfig(signing_domain=HOST, starknet_domain=self.state.domain),
            endpoints=EndpointsConfig(api_base_url=self.rest_url, api_base_order_management_url=self.rest_url,
                                      stream_url=self.stream_url,
                                      stream_rpc_url=f"ws://{HOST}:{self._port}/stream.extended.exchange/v2/rpc",
                                      onboarding_url=self.base_url, vault_asset_name="XVS"),
        )

    # ----- accounts and market control -----
    def create_account(self, collateral: Decimal = Decimal(0), *, maker_fee: Decimal = DEFAULT_MAKER_FEE,
                       taker_fee: Decimal = DEFAULT_TAKER_FEE, leverage: Decimal = DEFAULT_LEVERAGE,
                       client_id: Optional[int] = None) -> Account:
        return self.state.create_account(collateral, maker_fee=maker_fee, taker_fee=taker_fee, leverage=leverage,
                                         client_id=client_id)

    def deposit(self, account: Account, amount: Decimal):
        account.collateral += Decimal(amount)
        self.state.emit_balance(account.account_id)
        self.state.flush()

    def set_fees(self, account: Account, maker: Optional[Decimal] = None, taker: Optional[Decimal] = None):
        if maker is not None:
            account.maker_fee = Decimal(maker)
        if taker is not None:
            account.taker_fee = Decimal(taker)

    def set_prices(self, market: str, mark: Optional[Decimal] = None, index: Optional[Decimal] = None):
        self.state.market(market).set_prices(mark=Decimal(mark) if mark is not None else None,
                                             index=Decimal(index) if index is not None else None)
        for account_id, positions in self.state.positions.items():
            if market in positions and positions[market].size:
                self.state.emit_position(account_id, market)
        self.state.flush()

    def set_market_status(self, market: str, status: str):
        if status not in MARKET_STATUSES:
            raise ValueError(f"unknown market status {status}")
        self.state.market(market).status = status

    def set_funding_rate(self, market: str, rate: Decimal):
        self.state.market(market).funding_rate = Decimal(rate)

    # ----- synthetic participants and funding -----
    def synthetic_taker(self, market: str, side: str, qty: Decimal, price: Optional[Decimal] = None) -> List[Fill]:
        """An IOC order from the synthetic taker; returns its fills (the counterparties' are in state.fills)."""
        return self.flow.take(market, side, Decimal(qty), Decimal(price) if price is not None else None)

    def synthetic_maker(self, market: str, side: str, qty: Decimal, price: Decimal) -> Order:
        return self.flow.quote(market, side, Decimal(qty), Decimal(price))

    async def start_flow(self, markets: Optional[List[str]] = None, interval: float = 0.25,
                         duration: Optional[float] = None, taker_probability: float = 0.5,
                         volatility_bps: float = 2.0):
        self.flow.taker_probability = taker_probability
        self.flow.volatility_bps = volatility_bps
        self.flow.start(markets or list(self.state.markets), interval, duration)

    async def stop_flow(self):
        await self.flow.stop()

    def trigger_funding(self, market: Optional[str] = None, rate: Optional[Decimal] = None) -> List[FundingPayment]:
        names = [market] if market else list(self.state.markets)
        return [p for name in names for p in self.engine.apply_funding(name, rate)]

    # ----- clock -----
    def _publish_prices(self):
        ts = now_ms()
        for market in self.state.markets.values():
            for kind in ("mark", "index"):
                msg_type, data = streams.price_message(kind, market, ts)
                self.hub.publish(f"prices/{kind}", market.name, msg_type, data)

    def _publish_funding(self):
        ts = now_ms()
        for market in self.state.markets.values():
            self.hub.publish("funding", market.name, None, {"m": market.name, "T": ts, "f": dstr(market.funding_rate)})

    def _cancel_dead_man(self, now: int):
        # A countdown that ran out is spent: it fires once, until it is set again [inferred: the docs do not say].
        for account in self.state.accounts.values():
            if account.dead_man_deadline_ms is not None and account.dead_man_deadline_ms <= now:
                account.dead_man_deadline_ms = None
                self.engine.cancel_many(self.state.account_open_orders(account.account_id))

    async def _run_clock(self):
        loop = asyncio.get_running_loop()
        next_prices = loop.time() + self._price_interval
        next_funding_stream = loop.time() + self._funding_stream_interval
        next_funding = next_funding_time(now_ms())
        while True:
            await asyncio.sleep(CLOCK_INTERVAL)
            now = now_ms()
            self.engine.expire_due(now)
            self._cancel_dead_man(now)
            if self._hourly_funding and now >= next_funding:
                next_funding = next_funding_time(now)
                self.trigger_funding()
            if loop.time() >= next_prices:
                next_prices = loop.time() + self._price_interval
                self._publish_prices()
            if loop.time() >= next_funding_stream:
                next_funding_stream = loop.time() + self._funding_stream_interval
                self._publish_funding()
