import asyncio
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_parsers as parsers,
    lighter_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_ws_pacer import pacer_for
from hummingbot.core.data_type.common import TradeType
from hummingbot.core.data_type.funding_info import FundingInfo, FundingInfoUpdate
from hummingbot.core.data_type.order_book_message import OrderBookMessage, OrderBookMessageType
from hummingbot.core.data_type.perpetual_api_order_book_data_source import PerpetualAPIOrderBookDataSource
from hummingbot.core.web_assistant.connections.data_types import WSJSONRequest
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.core.web_assistant.ws_assistant import WSAssistant

if TYPE_CHECKING:
    from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import (
        LighterPerpetualDerivative,
    )

# How long a start-up read waits for the stream (a book's snapshot, market_stats) before asking REST instead.
STREAM_WAIT_SECONDS = 20.0
# A book asked for again (a gap, a refresh) or subscribed whose snapshot has not come within this long is asked again.
FRESH_SNAPSHOT_TIMEOUT = 10.0
# Hummingbot's tracker keeps this many of a market's messages until it starts tracking the book
# (OrderBookTracker._saved_message_queues), dropping the oldest beyond.
TRACKER_SAVED_MESSAGES = 1000
MARKET_STATS_ALL = f"{CONSTANTS.WS_MARKET_STATS_CHANNEL}/all"


class StreamSnapshotMessage(OrderBookMessage):
    """A snapshot ordered by update id. Hummingbot's OrderBookMessage orders a snapshot before every diff whatever
    their ids, so the tracker's restore_from_snapshot_and_diffs replays all of its last 32 diffs over each later
    snapshot and brings back levels the snapshot no longer has; ordered by nonce, only newer diffs are replayed."""

    def __lt__(self, other: OrderBookMessage) -> bool:
        if other.has_update_id:
            return self.update_id < other.update_id
        return super().__lt__(other)


class LighterPerpetualAPIOrderBookDataSource(PerpetualAPIOrderBookDataSource):
    """Books come from the WebSocket: a snapshot, then updates applied only while each update's begin_nonce equals
    the previous message's nonce. On a gap the market is resubscribed for a fresh snapshot instead of applying a
    diff onto a book that already missed one, and asked again until that snapshot comes. Snapshots and updates reach
    the order book in one queue, in the order they arrived: an update of a superseded subscription (an earlier
    connection, or before a resubscribe) is applied before the newer snapshot, never after it.

    Many markets on one connection: one market_stats/all subscription serves every market's prices and funding, and
    each market adds its order_book and trade channels. Every message leaves through the per-IP pacer (Lighter allows
    200 client messages a minute), books first, trades after, from a task of their own so that snapshots are read
    while the rest is still being paced. Start-up reads (the first book, the funding info) wait for the stream instead
    of one REST request per market."""

    def __init__(self, trading_pairs: List[str], connector: "LighterPerpetualDerivative",
                 api_factory: WebAssistantsFactory, domain: str = CONSTANTS.DEFAULT_DOMAIN):
        super().__init__(trading_pairs)
        self._connector = connector
        self._api_factory = api_factory
        self._domain = domain
        self._last_nonce: Dict[int, Optional[int]] = {}
        self._market_stats: Dict[int, parsers.MarketStats] = {}
        self._market_stats_seen = asyncio.Event()
        self._stream_snapshots: Dict[int, Dict[str, Any]] = {}
        self._snapshot_seen: Dict[int, asyncio.Event] = {}
        # Updates passed on after a market's first snapshot, while that snapshot waits to become the initial book.
        self._updates_after_first: Dict[int, int] = {}
        self._fresh_snapshot: Dict[int, asyncio.Event] = {}
        self._resubscribing: Dict[int, asyncio.Task] = {}
        self._subscribing: Optional[asyncio.Task] = None
        self._watching: Optional[asyncio.Task] = None
        self._streaming = False
        self._pairs_by_id: Dict[int, str] = {}
        self.gap_count = 0

    async def _market_id(self, trading_pair: str) -> int:
        return int(await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair))

    async def _trading_pair(self, market_id: int) -> str:
        # Every book update asks: a market id names the same pair for the connector's life, so it is cached.
        trading_pair = self._pairs_by_id.get(market_id)
        if trading_pair is None:
            trading_pair = await self._connector.trading_pair_associated_to_exchange_symbol(symbol=str(market_id))
            self._pairs_by_id[market_id] = trading_pair
        return trading_pair

    async def get_last_traded_prices(self, trading_pairs: List[str], domain: Optional[str] = None) -> Dict[str, float]:
        """Hummingbot asks every 5 s in a quiet market; market_stats carries the price, so REST is only the fallback
        (on a Standard account those polls alone would take a fifth of the 60 requests a minute)."""
        prices, missing = {}, []
        for trading_pair in trading_pairs:
            stats = self._market_stats.get(await self._market_id(trading_pair))
            if stats is not None and stats.last_trade_price:
                prices[trading_pair] = float(stats.last_trade_price)
            else:
                missing.append(trading_pair)
        if missing:
            prices.update(await self._connector.get_last_traded_prices(trading_pairs=missing))
        return prices

    def _snapshot_event(self, market_id: int) -> asyncio.Event:
        event = self._snapshot_seen.get(market_id)
        if event is None:
            event = self._snapshot_seen[market_id] = asyncio.Event()
        return event

    async def _order_book_snapshot(self, trading_pair: str) -> OrderBookMessage:
        """The stream's snapshot of the market once it came (Hummingbot asks for every market's first book one by
        one); else the REST book, which lists individual orders summed into price levels. A REST book only seeds the
        book: the stream's snapshot that follows the subscription replaces it."""
        market_id = await self._market_id(trading_pair)
        try:
            if self._streaming:
                await asyncio.wait_for(self._snapshot_event(market_id).wait(), STREAM_WAIT_SECONDS)
        except asyncio.TimeoutError:
            self.logger().info(f"No {trading_pair} book from the stream yet; reading it over REST.")
        streamed = self._stream_snapshots.pop(market_id, None)
        if streamed is not None:
            if self._updates_after_first.pop(market_id, 0) >= TRACKER_SAVED_MESSAGES and self._ws_assistant is not None:
                # The tracker kept only the newest of the updates since: a fresh snapshot fills what it dropped.
                self.logger().info(f"{trading_pair} book: more updates since its first snapshot than Hummingbot "
                                   f"keeps; asking for a fresh snapshot.")
                self._request_fresh_book(self._ws_assistant, market_id)
            return await self._book_message(streamed)
        response = await self._connector._api_get(
            path_url=CONSTANTS.ORDER_BOOK_ORDERS_PATH, params={"market_id": market_id, "limit": 250},
            limit_id=CONSTANTS.ORDER_BOOK_ORDERS_PATH)
        return OrderBookMessage(OrderBookMessageType.SNAPSHOT, {
            "trading_pair": trading_pair,
            "update_id": 0,
            "bids": parsers.aggregate_orders(response.get("bids") or []),
            "asks": parsers.aggregate_orders(response.get("asks") or []),
        }, timestamp=time.time())

    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        market_id = await self._market_id(trading_pair)
        if market_id not in self._market_stats and self._streaming:
            try:
                await asyncio.wait_for(self._market_stats_seen.wait(), STREAM_WAIT_SECONDS)
            except asyncio.TimeoutError:
                pass
        stats = self._market_stats.get(market_id)
        if stats is not None:
            return self._funding_info(trading_pair, stats)
        # Lighter has no REST mark price: the last trade price stands in until market_stats arrives.
        rates = await self._connector._api_get(path_url=CONSTANTS.FUNDING_RATES_PATH,
                                               limit_id=CONSTANTS.FUNDING_RATES_PATH)
        details = await self._connector._api_get(path_url=CONSTANTS.ORDER_BOOK_DETAILS_PATH,
                                                 params={"market_id": market_id},
                                                 limit_id=CONSTANTS.ORDER_BOOK_DETAILS_PATH)
        price = Decimal(0)
        for raw in details.get("order_book_details") or []:
            if int(raw["market_id"]) == market_id:
                price = parsers.to_decimal(raw.get("last_trade_price"))
        now = self._time()
        return FundingInfo(
            trading_pair=trading_pair, index_price=price, mark_price=price,
            next_funding_utc_timestamp=int(parsers.next_funding_time(None, now)),
            rate=parsers.lighter_funding_rate(rates, market_id) or Decimal(0))

    @staticmethod
    def _funding_info(trading_pair: str, stats: parsers.MarketStats) -> FundingInfo:
        return FundingInfo(trading_pair=trading_pair, index_price=stats.index_price, mark_price=stats.mark_price,
                           next_funding_utc_timestamp=int(stats.next_funding_timestamp), rate=stats.funding_rate)

    async def listen_for_subscriptions(self):
        # From here on, start-up reads wait for the stream.
        self._streaming = True
        try:
            await super().listen_for_subscriptions()
        finally:
            self._streaming = False

    async def _connected_websocket_assistant(self) -> WSAssistant:
        ws: WSAssistant = await self._api_factory.get_ws_assistant()
        await ws.connect(ws_url=web_utils.wss_url(self._domain), ping_timeout=CONSTANTS.WS_HEARTBEAT_INTERVAL)
        return ws

    def _channels(self, market_id: int) -> List[str]:
        return [f"{CONSTANTS.WS_ORDER_BOOK_CHANNEL}/{market_id}", f"{CONSTANTS.WS_TRADE_CHANNEL}/{market_id}"]

    async def _send(self, ws: WSAssistant, kind: str, channels: List[str]):
        pacer = pacer_for(web_utils.wss_url(self._domain))
        for channel in channels:
            await pacer.wait()
            await ws.send(WSJSONRequest(payload={"type": kind, "channel": channel}))

    async def _subscribe_channels(self, ws: WSAssistant):
        """Starts the paced subscriptions; the stream is read meanwhile."""
        market_ids = [await self._market_id(trading_pair) for trading_pair in self._trading_pairs]
        self._cancel_subscribing()
        for market_id in market_ids:
            self._await_snapshot(market_id)
        self._subscribing = asyncio.get_running_loop().create_task(self._send_subscriptions(ws, market_ids))

    async def _send_subscriptions(self, ws: WSAssistant, market_ids: List[int]):
        try:
            await self._send(ws, "subscribe", [MARKET_STATS_ALL])
            await self._send(ws, "subscribe", [f"{CONSTANTS.WS_ORDER_BOOK_CHANNEL}/{m}" for m in market_ids])
            await self._send(ws, "subscribe", [f"{CONSTANTS.WS_TRADE_CHANNEL}/{m}" for m in market_ids])
            self.logger().info(f"Subscribed to market stats and to the order book and trade channels of "
                               f"{len(market_ids)} markets.")
            self._watching = asyncio.get_running_loop().create_task(self._watch_snapshots(ws, market_ids))
        except asyncio.CancelledError:
            raise
        except Exception:
            # The stream's reader sees the broken connection and reconnects, which subscribes again.
            self.logger().warning("Unexpected error subscribing to order book data streams.", exc_info=True)

    async def _watch_snapshots(self, ws: WSAssistant, market_ids: List[int]):
        """A book whose snapshot has not come some time after subscribing is asked for again."""
        await asyncio.sleep(FRESH_SNAPSHOT_TIMEOUT)
        for market_id in market_ids:
            if not self._fresh_snapshot[market_id].is_set() and market_id not in self._resubscribing:
                self.logger().warning(f"No order book snapshot for market {market_id} within "
                                      f"{FRESH_SNAPSHOT_TIMEOUT:g} s of subscribing; asking again.")
                self._request_fresh_book(ws, market_id)

    def _cancel_subscribing(self):
        for task in [self._subscribing, self._watching, *self._resubscribing.values()]:
            if task is not None and not task.done():
                task.cancel()
        self._subscribing = self._watching = None
        self._resubscribing.clear()

    async def _on_order_stream_interruption(self, websocket_assistant: Optional[WSAssistant] = None):
        self._cancel_subscribing()
        await super()._on_order_stream_interruption(websocket_assistant)

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        if self._ws_assistant is None:
            self.logger().warning(f"Cannot subscribe to {trading_pair}: the WebSocket is not connected.")
            return False
        try:
            market_id = await self._market_id(trading_pair)
            self._await_snapshot(market_id)
            await self._send(self._ws_assistant, "subscribe", self._channels(market_id))
            self.add_trading_pair(trading_pair)
            self.logger().info(f"Subscribed to {trading_pair} order book and trade channels.")
            return True
        except asyncio.CancelledError:
            raise
        except Exception:
            self.logger().exception(f"Unexpected error subscribing to {trading_pair}.")
            return False

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        if self._ws_assistant is None:
            return False
        try:
            market_id = await self._market_id(trading_pair)
            await self._send(self._ws_assistant, "unsubscribe", self._channels(market_id))
            self._last_nonce.pop(market_id, None)
            self.remove_trading_pair(trading_pair)
            return True
        except asyncio.CancelledError:
            raise
        except Exception:
            self.logger().exception(f"Unexpected error unsubscribing from {trading_pair}.")
            return False

    def _await_snapshot(self, market_id: int):
        """The market's updates are dropped until its next snapshot."""
        self._last_nonce[market_id] = None
        self._fresh_snapshot.setdefault(market_id, asyncio.Event()).clear()

    def _request_fresh_book(self, ws: WSAssistant, market_id: int):
        """Asks for a fresh snapshot from a task of its own (the pacer may make it wait, and the stream is read
        meanwhile); one such task a market at a time."""
        self._await_snapshot(market_id)
        task = self._resubscribing.get(market_id)
        if task is None or task.done():
            self._resubscribing[market_id] = asyncio.get_running_loop().create_task(
                self._resubscribe_book(ws, market_id))

    async def _resubscribe_book(self, ws: WSAssistant, market_id: int):
        channel = [f"{CONSTANTS.WS_ORDER_BOOK_CHANNEL}/{market_id}"]
        arrived = self._fresh_snapshot[market_id]
        try:
            while not arrived.is_set():
                await self._send(ws, "unsubscribe", channel)
                await self._send(ws, "subscribe", channel)
                try:
                    await asyncio.wait_for(arrived.wait(), FRESH_SNAPSHOT_TIMEOUT)
                except asyncio.TimeoutError:
                    self.logger().warning(f"No fresh order book snapshot for market {market_id} within "
                                          f"{FRESH_SNAPSHOT_TIMEOUT:g} s; asking again.")
        except asyncio.CancelledError:
            raise
        except Exception as e:
            # The connection broke: reconnecting subscribes every book again.
            self.logger().debug(f"Resubscribing the market {market_id} book failed ({e}).")

    async def _request_order_book_snapshots(self, output: asyncio.Queue):
        """A periodic refresh asks the WebSocket for a fresh snapshot, which stays in step with the update nonces."""
        if self._ws_assistant is not None:
            for trading_pair in self._trading_pairs:
                self._request_fresh_book(self._ws_assistant, await self._market_id(trading_pair))

    def _channel_originating_message(self, event_message: Dict[str, Any]) -> str:
        kind = event_message.get("type", "")
        if kind.endswith("/order_book"):
            # Snapshots too: one queue keeps them in their place among the updates (see the class docstring).
            return self._diff_messages_queue_key
        if kind == "update/trade":
            return self._trade_messages_queue_key
        if kind.endswith("/market_stats"):
            return self._funding_info_messages_queue_key
        return ""

    async def _process_websocket_messages(self, websocket_assistant: WSAssistant):
        """Checks book continuity in arrival order, before messages are spread over the per-kind queues."""
        async for ws_response in websocket_assistant.iter_messages():
            data = ws_response.data
            if not isinstance(data, dict):
                continue
            if "error" in data:
                self.logger().warning(f"Lighter WebSocket error: {data['error']}")
                continue
            channel = self._channel_originating_message(data)
            if channel == self._diff_messages_queue_key:
                if not self._in_sequence(data, websocket_assistant):
                    continue
            elif channel == self._funding_info_messages_queue_key:
                # Kept at once: Hummingbot reads the funding info of every pair before it drains this queue.
                self._store_market_stats(data)
            elif not channel:
                # A ping has no channel: books, trades and stats, most of the traffic, skip this check.
                await web_utils.answer_ping(websocket_assistant, data)
                continue
            self._message_queue[channel].put_nowait(data)

    def _in_sequence(self, data: Dict[str, Any], ws: WSAssistant) -> bool:
        book = data.get("order_book") or {}
        market_id = int(data["channel"].split(":")[1])
        nonce = book.get("nonce")
        if data["type"].startswith("subscribed"):
            self._last_nonce[market_id] = nonce
            fresh = self._fresh_snapshot.get(market_id)
            if fresh is not None:
                fresh.set()
            seen = self._snapshot_event(market_id)
            if not seen.is_set():  # kept for the first book; it also goes to the tracker, which may still be starting
                self._stream_snapshots[market_id] = data
                self._updates_after_first[market_id] = 0
                seen.set()
            return True
        previous = self._last_nonce.get(market_id)
        begin_nonce = book.get("begin_nonce")
        if previous is None or nonce is None or begin_nonce is None:
            # No snapshot yet (one is on its way), or an old-format message that carries no nonces.
            passed = previous is not None or nonce is None
        elif begin_nonce != previous:
            self.gap_count += 1
            self.logger().info(f"Order book gap on market {market_id} (expected begin_nonce {previous}, got "
                               f"{begin_nonce}); resubscribing for a fresh snapshot ({self.gap_count} gaps so far).")
            self._request_fresh_book(ws, market_id)
            return False
        else:
            self._last_nonce[market_id] = nonce
            passed = True
        if passed and market_id in self._stream_snapshots:
            self._updates_after_first[market_id] += 1
        return passed

    async def _book_message(self, raw_message: Dict[str, Any]) -> OrderBookMessage:
        """A snapshot (subscribed/order_book) or a diff (update/order_book); runs for every book update."""
        book = parsers.parse_order_book_message(raw_message)
        content = {
            "trading_pair": self._pairs_by_id.get(book.market_id) or await self._trading_pair(book.market_id),
            "update_id": book.nonce,
            "bids": book.bids,
            "asks": book.asks,
        }
        if book.is_snapshot:
            return StreamSnapshotMessage(OrderBookMessageType.SNAPSHOT, content, timestamp=book.timestamp)
        return OrderBookMessage(OrderBookMessageType.DIFF, content, timestamp=book.timestamp)

    async def _parse_order_book_diff_message(self, raw_message: Dict[str, Any], message_queue: asyncio.Queue):
        message_queue.put_nowait(await self._book_message(raw_message))

    async def _parse_trade_message(self, raw_message: Dict[str, Any], message_queue: asyncio.Queue):
        for trade in parsers.parse_public_trades(raw_message):
            message_queue.put_nowait(OrderBookMessage(OrderBookMessageType.TRADE, {
                "trading_pair": await self._trading_pair(trade.market_id),
                "trade_type": float(TradeType.BUY.value if trade.taker_is_buyer else TradeType.SELL.value),
                "trade_id": trade.trade_id,
                "update_id": int(trade.timestamp * 1e3),
                "price": trade.price,
                "amount": trade.amount,
            }, timestamp=trade.timestamp))

    def _store_market_stats(self, raw_message: Dict[str, Any]) -> List[parsers.MarketStats]:
        parsed = parsers.parse_market_stats(raw_message, now=self._time())
        for stats in parsed:
            self._market_stats[stats.market_id] = stats
        if parsed:
            self._market_stats_seen.set()
        return parsed

    async def _parse_funding_info_message(self, raw_message: Dict[str, Any], message_queue: asyncio.Queue):
        tracked = set(self._trading_pairs)
        for stats in self._store_market_stats(raw_message):
            # market_stats/all lists every market: only tracked ones are Hummingbot's business.
            try:
                trading_pair = await self._trading_pair(stats.market_id)
            except KeyError:
                continue  # a market the connector does not trade (inactive)
            if trading_pair not in tracked:
                continue
            message_queue.put_nowait(FundingInfoUpdate(
                trading_pair=trading_pair, index_price=stats.index_price,
                mark_price=stats.mark_price, next_funding_utc_timestamp=int(stats.next_funding_timestamp),
                rate=stats.funding_rate))
