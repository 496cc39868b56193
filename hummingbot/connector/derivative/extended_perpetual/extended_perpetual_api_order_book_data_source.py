import asyncio
import functools
import itertools
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Set, Tuple

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_parsers as parsers,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.core.data_type.common import TradeType
from hummingbot.core.data_type.funding_info import FundingInfo, FundingInfoUpdate
from hummingbot.core.data_type.order_book_message import OrderBookMessage, OrderBookMessageType
from hummingbot.core.data_type.perpetual_api_order_book_data_source import PerpetualAPIOrderBookDataSource
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.core.web_assistant.ws_assistant import WSAssistant

if TYPE_CHECKING:
    from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import (
        ExtendedPerpetualDerivative,
    )

_ZERO = Decimal(0)


class SequenceGap(Exception):
    """A book frame did not follow the previous one: the connection's books can no longer be trusted."""

    def __init__(self, synced: bool):
        super().__init__()
        # Whether the connection had a snapshot: a fresh one is then wanted at once; a connection that opened without
        # one is retried after the usual pause, not in a tight loop.
        self.synced = synced


class BookConnection:
    """One book stream connection: one market's, or every market's (market None). Its seq counts every frame it
    carries, whatever the market; only the markets whose SNAPSHOT came on it can take its DELTAs."""

    __slots__ = ("market", "seq", "synced")

    def __init__(self, market: Optional[str]):
        self.market = market
        self.seq: Optional[int] = None
        self.synced: Set[str] = set()


class BookMirror:
    """The stream's view of one market's book, kept to turn every frame (a snapshot included) into absolute level
    sizes that Hummingbot's order book applies as a diff."""

    def __init__(self):
        self.bids: Dict[Decimal, Decimal] = {}
        self.asks: Dict[Decimal, Decimal] = {}
        self.emitting = False
        self.ready = asyncio.Event()

    def reset(self, bids: List[Tuple[Decimal, Decimal]], asks: List[Tuple[Decimal, Decimal]]):
        """Replaces the book; returns what changed (removed levels at size 0), so a resync is applied as a diff."""
        return self._replace(self.bids, bids), self._replace(self.asks, asks)

    @staticmethod
    def _replace(side: Dict[Decimal, Decimal], levels: List[Tuple[Decimal, Decimal]]):
        new = {price: size for price, size in levels if size > 0}
        changes = [(price, _ZERO) for price in side if price not in new]
        changes.extend((price, size) for price, size in new.items() if side.get(price) != size)
        side.clear()
        side.update(new)
        return changes

    def apply(self, bids: List[parsers.LevelChange], asks: List[parsers.LevelChange]):
        """Applies a DELTA's levels; returns the absolute size each changed level is left with (0: removed)."""
        return self._apply(self.bids, bids) if bids else bids, self._apply(self.asks, asks) if asks else asks

    @staticmethod
    def _apply(side: Dict[Decimal, Decimal], levels: List[parsers.LevelChange]):
        changes = []
        for price, size, change in levels:
            if size is None:
                size = side.get(price, _ZERO) + change
            if size > 0:
                side[price] = size
            else:
                side.pop(price, None)
                size = _ZERO
            changes.append((price, size))
        return changes

    def clear(self):
        self.bids.clear()
        self.asks.clear()
        self.emitting = False
        self.ready.clear()


# (stream kind, market or None for the all-markets stream)
StreamKey = Tuple[str, Optional[str]]


class ExtendedPerpetualAPIOrderBookDataSource(PerpetualAPIOrderBookDataSource):
    """Trades, funding rates, mark and index prices come from four all-markets streams whatever the number of pairs,
    filtered to the tracked ones. Books come from one connection per market up to MARKET_BOOK_STREAMS_MAX pairs,
    beyond that from the all-markets book stream. Book frames must arrive with `seq` previous + 1 on their connection;
    on a gap the connection is dropped and reopened, which starts with a fresh SNAPSHOT of each of its markets. Every
    book change, that snapshot included, reaches the order book as absolute sizes in one ordered diff stream, so the
    book equals the exchange's after a resync and no stale level survives.

    The all-markets book stream numbers its frames per connection across every market (as each market's stream does
    for its own frames): a gap there cannot be told to one market, so every book on it is resynced. That is why a
    few pairs keep a connection each."""

    STREAM_PATHS = {
        "orderbooks": CONSTANTS.ORDER_BOOK_STREAM,
        "publicTrades": CONSTANTS.PUBLIC_TRADES_STREAM,
        "funding": CONSTANTS.FUNDING_STREAM,
        "markPrice": CONSTANTS.MARK_PRICE_STREAM,
        "indexPrice": CONSTANTS.INDEX_PRICE_STREAM,
    }
    SHARED_KINDS = ("publicTrades", "funding", "markPrice", "indexPrice")

    def __init__(self, trading_pairs: List[str], connector: "ExtendedPerpetualDerivative",
                 api_factory: WebAssistantsFactory, domain: str = CONSTANTS.DEFAULT_DOMAIN):
        super().__init__(trading_pairs)
        self._connector = connector
        self._api_factory = api_factory
        self._domain = domain
        self._books: Dict[str, BookMirror] = {}
        # Exchange market -> trading pair of the pairs whose streams run: frames of other markets are skipped.
        self._pairs_by_market: Dict[str, str] = {}
        self._update_ids = itertools.count(1)
        self._stream_tasks: Dict[StreamKey, asyncio.Task] = {}
        self._streams_lock = asyncio.Lock()
        self._stats_batch: Optional[Tuple[Set[str], asyncio.Task, float]] = None
        self.resync_count = 0

    # ----- REST -----

    async def get_last_traded_prices(self, trading_pairs: List[str], domain: Optional[str] = None) -> Dict[str, float]:
        """One GET /info/markets for all of them: Hummingbot's order book tracker asks every 5 s for each book without
        a trade in the last 3 minutes, and a read a pair would be most of the idle traffic on many markets."""
        pairs = {await self._connector.exchange_symbol_associated_to_pair(trading_pair=pair): pair
                 for pair in trading_pairs}
        stats = await self._read_market_stats(sorted(pairs))
        return {pairs[market]: float(stats[market].last_price) for market in pairs if market in stats}

    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        market = await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        stats = (await self._market_stats(market)).get(market)
        if stats is None:
            raise ValueError(f"Extended returned no market statistics for {market}.")
        return FundingInfo(trading_pair=trading_pair, index_price=stats.index_price, mark_price=stats.mark_price,
                           next_funding_utc_timestamp=stats.next_funding_timestamp, rate=stats.funding_rate)

    async def _market_stats(self, market: str) -> Dict[str, parsers.MarketStats]:
        """Statistics of `market` and of every tracked one, from one GET /info/markets shared by the calls that come
        while it runs or up to FUNDING_INFO_BATCH_REUSE_S after it started (a failed read is not reused)."""
        batch = self._stats_batch
        if (batch is None or market not in batch[0]
                or (batch[1].done() and (batch[1].cancelled() or batch[1].exception() is not None
                                         or self._time() - batch[2] > CONSTANTS.FUNDING_INFO_BATCH_REUSE_S))):
            markets = {market}
            for trading_pair in self._trading_pairs:
                markets.add(await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair))
            batch = self._stats_batch = (markets, asyncio.ensure_future(self._read_market_stats(sorted(markets))),
                                         self._time())
        return await asyncio.shield(batch[1])

    async def _read_market_stats(self, markets: List[str]) -> Dict[str, parsers.MarketStats]:
        # The x10 SDK's get_markets(market_names=[...]) repeats the market parameter, one per market.
        response = await self._connector._api_get(path_url=CONSTANTS.MARKETS_PATH, params={"market": markets},
                                                  limit_id=CONSTANTS.MARKETS_PATH)
        return {entry["name"]: parsers.parse_market_stats(entry["marketStats"])
                for entry in parsers.market_entries(response)
                if entry.get("name") in markets and isinstance(entry.get("marketStats"), dict)}

    async def _rest_order_book(self, trading_pair: str):
        market = await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        response = await self._connector._api_get(path_url=CONSTANTS.ORDER_BOOK_PATH.format(market=market),
                                                  limit_id=CONSTANTS.ORDER_BOOK_PATH)
        return parsers.parse_rest_order_book(response.get("data") or {})

    async def _order_book_snapshot(self, trading_pair: str) -> OrderBookMessage:
        """The stream's book when it has one (waiting briefly for it while its connection is starting), else the REST
        book. Either way later diffs continue from it: the diff stream opens here."""
        mirror = self._mirror(trading_pair)
        if not mirror.ready.is_set() and self._book_stream_running(trading_pair):
            try:
                await asyncio.wait_for(mirror.ready.wait(), CONSTANTS.STREAM_SNAPSHOT_WAIT)
            except asyncio.TimeoutError:
                self.logger().warning(f"No order book from the {trading_pair} stream yet; using the REST book.")
        if not mirror.ready.is_set():
            bids, asks = await self._rest_order_book(trading_pair)
            if not mirror.ready.is_set():  # a stream book that came meanwhile is the newer one
                mirror.reset(bids, asks)
        mirror.emitting = True
        return OrderBookMessage(OrderBookMessageType.SNAPSHOT, {
            "trading_pair": trading_pair,
            "update_id": next(self._update_ids),
            "bids": list(mirror.bids.items()),
            "asks": list(mirror.asks.items()),
        }, timestamp=self._time())

    # ----- streams -----

    def _mirror(self, trading_pair: str) -> BookMirror:
        mirror = self._books.get(trading_pair)
        if mirror is None:
            mirror = self._books[trading_pair] = BookMirror()
        return mirror

    def _book_stream_running(self, trading_pair: str) -> bool:
        """Whether a book stream that carries this tracked pair runs (its own, or the all-markets one)."""
        markets = {None, *(market for market, pair in self._pairs_by_market.items() if pair == trading_pair)}
        return len(markets) > 1 and any(kind == "orderbooks" and market in markets and not task.done()
                                        for (kind, market), task in self._stream_tasks.items())

    def _wanted_streams(self) -> Set[StreamKey]:
        if not self._pairs_by_market:
            return set()
        wanted = {(kind, None) for kind in self.SHARED_KINDS}
        if len(self._pairs_by_market) > CONSTANTS.MARKET_BOOK_STREAMS_MAX:
            wanted.add(("orderbooks", None))
        else:
            wanted.update(("orderbooks", market) for market in self._pairs_by_market)
        return wanted

    async def _sync_streams(self, reopen_all_markets_books: bool = False):
        """Runs the streams the tracked pairs need and stops the others. `reopen_all_markets_books`: a pair was added
        while the all-markets book stream ran, which skipped its frames; a new connection snapshots every book."""
        async with self._streams_lock:
            wanted = self._wanted_streams()
            stale = [key for key, task in self._stream_tasks.items()
                     if key not in wanted or task.done()
                     or (reopen_all_markets_books and key == ("orderbooks", None))]
            tasks = [self._stream_tasks.pop(key) for key in stale]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for key in sorted(wanted - self._stream_tasks.keys(), key=lambda k: (k[0], k[1] or "")):
                self._stream_tasks[key] = asyncio.get_running_loop().create_task(self._run_stream(*key))

    async def _track(self, trading_pair: str):
        market = await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        self._pairs_by_market[market] = trading_pair

    async def _stop_all_streams(self):
        self._pairs_by_market.clear()
        await self._sync_streams()
        for mirror in self._books.values():
            mirror.clear()

    async def listen_for_subscriptions(self):
        """Runs the streams of every tracked pair until cancelled; each stream reconnects on its own."""
        try:
            for trading_pair in list(self._trading_pairs):
                await self._track(trading_pair)
            await self._sync_streams()
            await asyncio.Event().wait()
        finally:
            await self._stop_all_streams()

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        self.add_trading_pair(trading_pair)
        new = trading_pair not in self._pairs_by_market.values()
        await self._track(trading_pair)
        await self._sync_streams(reopen_all_markets_books=new)
        self.logger().info(f"Subscribed to the {trading_pair} order book, trade, funding and price streams.")
        return True

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        for market in [m for m, pair in self._pairs_by_market.items() if pair == trading_pair]:
            del self._pairs_by_market[market]
        await self._sync_streams()
        self._books.pop(trading_pair, None)
        self.remove_trading_pair(trading_pair)
        self.logger().info(f"Unsubscribed from the {trading_pair} streams.")
        return True

    async def _connect(self, path: str) -> WSAssistant:
        ws: WSAssistant = await self._api_factory.get_ws_assistant()
        await ws.connect(ws_url=web_utils.stream_url(path, self._domain), ws_headers=web_utils.stream_headers(),
                         ping_timeout=CONSTANTS.WS_HEARTBEAT_INTERVAL)
        return ws

    async def _run_stream(self, kind: str, market: Optional[str]):
        path = self.STREAM_PATHS[kind] + (f"/{market}" if market else "")
        while True:
            ws: Optional[WSAssistant] = None
            delay = CONSTANTS.STREAM_RECONNECT_DELAY
            try:
                ws = await self._connect(path)
                if kind == "orderbooks":
                    # seq counts per connection: the previous connection's says nothing about this one.
                    handle = functools.partial(self._on_book_frame, BookConnection(market))
                else:
                    handle = self._shared_frame_handler(kind)
                async for response in ws.iter_messages():
                    self._on_frame(path, response.data, handle)
            except asyncio.CancelledError:
                raise
            except SequenceGap as gap:
                if gap.synced:
                    delay = 0
            except ConnectionError as e:
                self.logger().warning(f"The Extended {path} stream closed ({e}); reconnecting.")
            except Exception as e:
                self.logger().warning(f"Error on the Extended {path} stream ({e.__class__.__name__}: {e}); "
                                      f"reconnecting in {delay:.0f} s.", exc_info=True)
            finally:
                if ws is not None:
                    await ws.disconnect()
            await self._sleep(delay)

    def _on_frame(self, path: str, frame: Any, handle: Callable[[Dict[str, Any]], None]):
        if not isinstance(frame, dict):
            return
        error = parsers.envelope_error(frame)
        if error is not None:
            code, message = error
            raise ConnectionError(f"Extended reported an error on {path}: {message} ({code})")
        handle(frame)

    def _shared_frame_handler(self, kind: str) -> Callable[[Dict[str, Any]], None]:
        """Queues the frames of tracked markets: a trades frame keeps only their trades."""
        tracked = self._pairs_by_market
        if kind == "publicTrades":
            queue = self._message_queue[self._trade_messages_queue_key]

            def on_trades(frame: Dict[str, Any]):
                data = frame.get("data")
                trades = [t for t in data if isinstance(t, dict) and t.get("m") in tracked] if isinstance(
                    data, list) else []
                if trades:
                    queue.put_nowait({**frame, "data": trades})
            return on_trades
        queue = self._message_queue[self._funding_info_messages_queue_key]

        def on_market_frame(frame: Dict[str, Any]):
            data = frame.get("data")
            if isinstance(data, dict) and data.get("m") in tracked:
                queue.put_nowait(frame)
        return on_market_frame

    def _gap(self, what: str, seq: int, previous: Optional[int], synced: bool):
        self.resync_count += 1
        self.logger().info(f"Order book stream gap on {what} (seq {seq} after {previous}); reconnecting for a fresh "
                           f"snapshot ({self.resync_count} resyncs so far).")
        raise SequenceGap(synced)

    def _on_book_frame(self, connection: BookConnection, frame: Dict[str, Any]):
        # Runs for every book frame of every market: tens of thousands a second on the all-markets stream.
        kind = parsers.book_frame_kind(frame)
        if kind is None:
            return
        # Only the envelope is read first: the levels of a market nobody tracks are never parsed.
        data = frame.get("data") or {}
        market, seq, previous = str(data["m"]), int(frame["seq"]), connection.seq
        is_snapshot = kind == CONSTANTS.STREAM_SNAPSHOT
        trading_pair = self._pairs_by_market.get(market)
        # A market's own stream restarts with its SNAPSHOT; on the all-markets stream a SNAPSHOT takes its place in
        # the connection's count like any frame, so a frame lost before it is still noticed.
        if previous is not None and seq != previous + 1 and not (is_snapshot and connection.market is not None):
            self._gap(trading_pair or market if connection.market else "the all-markets stream", seq, previous,
                      synced=True)
        connection.seq = seq
        if is_snapshot:
            connection.synced.add(market)
        elif market not in connection.synced:
            if trading_pair is None:
                return
            self._gap(trading_pair, seq, previous, synced=False)
        if trading_pair is None:
            return
        bids, asks = parsers.book_levels(data.get("b"), is_snapshot), parsers.book_levels(data.get("a"), is_snapshot)
        mirror = self._books.get(trading_pair) or self._mirror(trading_pair)
        if is_snapshot:
            bids, asks = mirror.reset([(price, size) for price, size, _ in bids],
                                      [(price, size) for price, size, _ in asks])
            mirror.ready.set()
        else:
            bids, asks = mirror.apply(bids, asks)
        if mirror.emitting and (bids or asks):
            self._message_queue[self._diff_messages_queue_key].put_nowait({
                "trading_pair": trading_pair,
                "update_id": next(self._update_ids),
                "bids": bids,
                "asks": asks,
                "timestamp": parsers.ms_to_seconds(frame.get("ts")),
            })

    # ----- messages for the order book tracker -----

    async def _parse_order_book_diff_message(self, raw_message: Dict[str, Any], message_queue: asyncio.Queue):
        message_queue.put_nowait(OrderBookMessage(OrderBookMessageType.DIFF, raw_message,
                                                  timestamp=raw_message["timestamp"]))

    async def _parse_trade_message(self, raw_message: Dict[str, Any], message_queue: asyncio.Queue):
        for trade in parsers.parse_public_trades(raw_message.get("data")):
            message_queue.put_nowait(OrderBookMessage(OrderBookMessageType.TRADE, {
                "trading_pair": await self._connector.trading_pair_associated_to_exchange_symbol(symbol=trade.market),
                "trade_type": float(TradeType.BUY.value if trade.taker_is_buyer else TradeType.SELL.value),
                "trade_id": trade.trade_id,
                "update_id": int(trade.timestamp * 1e3),
                "price": trade.price,
                "amount": trade.amount,
            }, timestamp=trade.timestamp))

    async def _parse_funding_info_message(self, raw_message: Dict[str, Any], message_queue: asyncio.Queue):
        """Funding frames carry the hourly rate; mark and index price frames the prices."""
        if raw_message.get("type") in (CONSTANTS.STREAM_MARK_PRICE, CONSTANTS.STREAM_INDEX_PRICE):
            price = parsers.parse_price_frame(raw_message)
            trading_pair = await self._connector.trading_pair_associated_to_exchange_symbol(symbol=price.market)
            update = (FundingInfoUpdate(trading_pair=trading_pair, mark_price=price.price) if price.is_mark
                      else FundingInfoUpdate(trading_pair=trading_pair, index_price=price.price))
        else:
            funding = parsers.parse_funding_frame(raw_message)
            update = FundingInfoUpdate(
                trading_pair=await self._connector.trading_pair_associated_to_exchange_symbol(symbol=funding.market),
                rate=funding.rate, next_funding_utc_timestamp=funding.next_funding_timestamp)
        message_queue.put_nowait(update)
