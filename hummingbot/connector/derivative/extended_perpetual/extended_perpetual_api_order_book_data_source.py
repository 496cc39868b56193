import asyncio
import itertools
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

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
    """A book frame did not follow the previous one: the connection's book can no longer be trusted."""

    def __init__(self, synced: bool):
        super().__init__()
        # Whether the connection had a snapshot: a fresh one is then wanted at once; a connection that opened without
        # one is retried after the usual pause, not in a tight loop.
        self.synced = synced


class BookMirror:
    """The stream's view of one market's book, kept to check frames in order and to turn every frame (a snapshot
    included) into absolute level sizes that Hummingbot's order book applies as a diff."""

    def __init__(self):
        self.bids: Dict[Decimal, Decimal] = {}
        self.asks: Dict[Decimal, Decimal] = {}
        self.seq: Optional[int] = None
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

    def apply(self, frame: parsers.BookFrame):
        return self._apply(self.bids, frame.bids), self._apply(self.asks, frame.asks)

    @staticmethod
    def _apply(side: Dict[Decimal, Decimal], levels: List[parsers.LevelChange]):
        changes = []
        for level in levels:
            size = level.size if level.size is not None else side.get(level.price, _ZERO) + level.change
            if size > 0:
                side[level.price] = size
            else:
                side.pop(level.price, None)
                size = _ZERO
            changes.append((level.price, size))
        return changes

    def clear(self):
        self.bids.clear()
        self.asks.clear()
        self.seq = None
        self.emitting = False
        self.ready.clear()


class ExtendedPerpetualAPIOrderBookDataSource(PerpetualAPIOrderBookDataSource):
    """One stream connection per market and kind (the URL selects the stream). Book frames must arrive with `seq`
    previous + 1; on a gap the connection is dropped and reopened, which starts with a fresh SNAPSHOT. Every book
    change, that snapshot included, reaches the order book as absolute sizes in one ordered diff stream, so the book
    equals the exchange's after a resync and no stale level survives."""

    STREAM_PATHS = {
        "orderbooks": CONSTANTS.ORDER_BOOK_STREAM,
        "publicTrades": CONSTANTS.PUBLIC_TRADES_STREAM,
        "funding": CONSTANTS.FUNDING_STREAM,
        "markPrice": CONSTANTS.MARK_PRICE_STREAM,
        "indexPrice": CONSTANTS.INDEX_PRICE_STREAM,
    }

    def __init__(self, trading_pairs: List[str], connector: "ExtendedPerpetualDerivative",
                 api_factory: WebAssistantsFactory, domain: str = CONSTANTS.DEFAULT_DOMAIN):
        super().__init__(trading_pairs)
        self._connector = connector
        self._api_factory = api_factory
        self._domain = domain
        self._books: Dict[str, BookMirror] = {}
        self._update_ids = itertools.count(1)
        self._stream_tasks: Dict[str, List[asyncio.Task]] = {}
        self.resync_count = 0

    # ----- REST -----

    async def get_last_traded_prices(self, trading_pairs: List[str], domain: Optional[str] = None) -> Dict[str, float]:
        return await self._connector.get_last_traded_prices(trading_pairs=trading_pairs)

    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        market = await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        response = await self._connector._api_get(path_url=CONSTANTS.MARKETS_PATH, params={"market": market},
                                                  limit_id=CONSTANTS.MARKETS_PATH)
        for entry in parsers.market_entries(response):
            if entry.get("name") == market and isinstance(entry.get("marketStats"), dict):
                stats = parsers.parse_market_stats(entry["marketStats"])
                return FundingInfo(trading_pair=trading_pair, index_price=stats.index_price,
                                   mark_price=stats.mark_price,
                                   next_funding_utc_timestamp=stats.next_funding_timestamp, rate=stats.funding_rate)
        raise ValueError(f"Extended returned no market statistics for {market}.")

    async def _rest_order_book(self, trading_pair: str):
        market = await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        response = await self._connector._api_get(path_url=CONSTANTS.ORDER_BOOK_PATH.format(market=market),
                                                  limit_id=CONSTANTS.ORDER_BOOK_PATH)
        return parsers.parse_rest_order_book(response.get("data") or {})

    async def _order_book_snapshot(self, trading_pair: str) -> OrderBookMessage:
        """The stream's book when it has one (waiting briefly for it while its connection is starting), else the REST
        book. Either way later diffs continue from it: the diff stream opens here."""
        mirror = self._mirror(trading_pair)
        if not mirror.ready.is_set() and self._streams_running(trading_pair):
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

    def _streams_running(self, trading_pair: str) -> bool:
        return any(not task.done() for task in self._stream_tasks.get(trading_pair, ()))

    def _frame_handler(self, kind: str, trading_pair: str) -> Callable[[Dict[str, Any]], None]:
        if kind == "orderbooks":
            return lambda frame: self._on_book_frame(trading_pair, frame)
        queue_key = self._trade_messages_queue_key if kind == "publicTrades" else self._funding_info_messages_queue_key
        return lambda frame: self._message_queue[queue_key].put_nowait(frame)

    def _start_streams(self, trading_pair: str):
        if self._streams_running(trading_pair):
            return
        self._stream_tasks[trading_pair] = [
            asyncio.get_running_loop().create_task(self._run_stream(kind, trading_pair)) for kind in self.STREAM_PATHS]

    async def _stop_streams(self, trading_pair: str):
        tasks = self._stream_tasks.pop(trading_pair, [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        mirror = self._books.get(trading_pair)
        if mirror is not None:
            mirror.clear()

    async def listen_for_subscriptions(self):
        """Runs every stream of every tracked pair until cancelled; each stream reconnects on its own."""
        try:
            for trading_pair in list(self._trading_pairs):
                self._start_streams(trading_pair)
            await asyncio.Event().wait()
        finally:
            for trading_pair in list(self._stream_tasks):
                await self._stop_streams(trading_pair)

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        self.add_trading_pair(trading_pair)
        self._start_streams(trading_pair)
        self.logger().info(f"Subscribed to the {trading_pair} order book, trade, funding and price streams.")
        return True

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        await self._stop_streams(trading_pair)
        self._books.pop(trading_pair, None)
        self.remove_trading_pair(trading_pair)
        self.logger().info(f"Unsubscribed from the {trading_pair} streams.")
        return True

    async def _connect(self, path: str) -> WSAssistant:
        ws: WSAssistant = await self._api_factory.get_ws_assistant()
        await ws.connect(ws_url=web_utils.stream_url(path, self._domain), ws_headers=web_utils.stream_headers(),
                         ping_timeout=CONSTANTS.WS_HEARTBEAT_INTERVAL)
        return ws

    async def _run_stream(self, kind: str, trading_pair: str):
        handle = self._frame_handler(kind, trading_pair)
        path = self.STREAM_PATHS[kind]
        while True:
            ws: Optional[WSAssistant] = None
            delay = CONSTANTS.STREAM_RECONNECT_DELAY
            try:
                market = await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
                path = self.STREAM_PATHS[kind].format(market=market)
                ws = await self._connect(path)
                if kind == "orderbooks":
                    # seq counts per connection, from 1: the previous connection's says nothing about this one.
                    self._mirror(trading_pair).seq = None
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

    def _on_book_frame(self, trading_pair: str, frame: Dict[str, Any]):
        book_frame = parsers.parse_book_frame(frame)
        if book_frame is None:
            return
        mirror = self._mirror(trading_pair)
        if book_frame.is_snapshot:
            bids, asks = mirror.reset([(level.price, level.size) for level in book_frame.bids],
                                      [(level.price, level.size) for level in book_frame.asks])
            mirror.ready.set()
        else:
            if mirror.seq is None or book_frame.seq != mirror.seq + 1:
                self.resync_count += 1
                self.logger().info(
                    f"Order book stream gap on {trading_pair} (seq {book_frame.seq} after {mirror.seq}); reconnecting "
                    f"for a fresh snapshot ({self.resync_count} resyncs so far).")
                synced, mirror.seq = mirror.seq is not None, None
                raise SequenceGap(synced)
            bids, asks = mirror.apply(book_frame)
        mirror.seq = book_frame.seq
        if mirror.emitting and (bids or asks):
            self._message_queue[self._diff_messages_queue_key].put_nowait({
                "trading_pair": trading_pair,
                "update_id": next(self._update_ids),
                "bids": bids,
                "asks": asks,
                "timestamp": book_frame.timestamp,
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
