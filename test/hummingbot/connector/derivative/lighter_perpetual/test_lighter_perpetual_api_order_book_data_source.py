import asyncio
import json
import re
import unittest
from decimal import Decimal
from typing import Any, Dict, List
from unittest.mock import AsyncMock, patch

from aioresponses import aioresponses

from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_api_order_book_data_source as module,
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_web_utils as web_utils,
    lighter_perpetual_ws_pacer as pacer_module,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_api_order_book_data_source import (
    LighterPerpetualAPIOrderBookDataSource,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import LighterPerpetualDerivative
from hummingbot.connector.test_support.network_mocking_assistant import NetworkMockingAssistant
from hummingbot.core.data_type.common import TradeType
from hummingbot.core.data_type.funding_info import FundingInfoUpdate
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_message import OrderBookMessage, OrderBookMessageType
from hummingbot.core.data_type.order_book_tracker import OrderBookTracker
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import OrderBookEvent
from test.hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_payloads as payloads

TRADING_PAIR = "ETH-USDC"
SNAPSHOT_NONCE = payloads.WS_BOOK_SNAPSHOT["order_book"]["nonce"]


def url_pattern(path: str) -> re.Pattern:
    return re.compile("^" + re.escape(web_utils.public_rest_url(path)) + r"(\?.*)?$")


def book_update(begin_nonce: int, nonce: int) -> Dict[str, Any]:
    update = payloads.fresh(payloads.WS_BOOK_UPDATE)
    update["order_book"].update(begin_nonce=begin_nonce, nonce=nonce)
    return update


class LighterPerpetualAPIOrderBookDataSourceTests(unittest.IsolatedAsyncioTestCase):
    # Receives the data source's log records (see handle).
    level = 0

    async def asyncSetUp(self):
        # Each test starts with the per-IP message budget unspent.
        pacer_module._pacers.clear()
        payloads.use_default_urls(self)
        self.log_records = []
        self.mocking_assistant = NetworkMockingAssistant()
        await self.mocking_assistant.async_init()
        # A paper-trade connector (no keys) is enough for public market data.
        self.connector = LighterPerpetualDerivative(trading_pairs=[TRADING_PAIR], trading_required=False)
        self.connector._initialize_trading_pair_symbols_from_exchange_info(payloads.fresh(payloads.ORDER_BOOK_DETAILS))
        self.data_source = LighterPerpetualAPIOrderBookDataSource(
            trading_pairs=[TRADING_PAIR], connector=self.connector, api_factory=self.connector._web_assistants_factory)
        self.data_source.logger().setLevel(1)
        self.data_source.logger().addHandler(self)
        self.listening_task = None

    async def asyncTearDown(self):
        if self.listening_task is not None:
            self.listening_task.cancel()
        self.data_source.logger().removeHandler(self)

    def handle(self, record):
        self.log_records.append(record)

    def is_logged(self, level: str, start: str) -> bool:
        return any(r.levelname == level and r.getMessage().startswith(start) for r in self.log_records)

    async def listen(self, ws_connect_mock: AsyncMock, messages: List[Dict[str, Any]]) -> AsyncMock:
        """Connects, lets the paced subscriptions go out, then delivers `messages`."""
        ws = self.mocking_assistant.create_websocket_mock()
        ws_connect_mock.return_value = ws
        self.listening_task = asyncio.get_running_loop().create_task(self.data_source.listen_for_subscriptions())
        while self.data_source._subscribing is None or not self.data_source._subscribing.done():
            await asyncio.sleep(0.01)
        for message in messages:
            self.mocking_assistant.add_websocket_aiohttp_message(ws, json.dumps(message))
        await self.mocking_assistant.run_until_all_aiohttp_messages_delivered(ws)
        # Let the last delivered message be processed.
        await asyncio.sleep(0)
        return ws

    def sent(self, ws: AsyncMock) -> List[Dict[str, Any]]:
        return self.mocking_assistant.json_messages_sent_through_websocket(ws)

    def queued(self, key: str) -> List[Dict[str, Any]]:
        queue = self.data_source._message_queue[key]
        return [queue.get_nowait() for _ in range(queue.qsize())]

    def queued_books(self) -> List[Dict[str, Any]]:
        """Book frames as the tracker will get them: snapshots and updates in one queue."""
        self.assertEqual([], self.queued(self.data_source._snapshot_messages_queue_key))
        return self.queued(self.data_source._diff_messages_queue_key)

    async def sent_after_resubscribing(self, ws: AsyncMock, market_id: int = 0) -> List[Dict[str, Any]]:
        """Waits for the paced unsubscribe/subscribe of a resubscription to go out."""
        for _ in range(200):
            if len(self.sent(ws)) >= 5:
                break
            await asyncio.sleep(0.01)
        return self.sent(ws)[3:]

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_subscribes_to_all_market_stats_then_books_then_trades(self, ws_connect_mock):
        ws = await self.listen(ws_connect_mock, [payloads.WS_CONNECTED])

        self.assertEqual([{"type": "subscribe", "channel": "market_stats/all"},
                          {"type": "subscribe", "channel": "order_book/0"},
                          {"type": "subscribe", "channel": "trade/0"}], self.sent(ws))
        self.assertEqual(web_utils.wss_url(), ws_connect_mock.call_args.args[0])
        self.assertTrue(self.is_logged("INFO", "Subscribed to market stats and to the order book and trade channels "
                                               "of 1 markets"))

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_snapshot_then_contiguous_update_are_routed_and_parsed(self, ws_connect_mock):
        await self.listen(ws_connect_mock, [payloads.WS_BOOK_SNAPSHOT, book_update(SNAPSHOT_NONCE, 904870),
                                            book_update(904870, 904900)])

        snapshot, *diffs = self.queued_books()
        self.assertEqual([904870, 904900], [diff["order_book"]["nonce"] for diff in diffs])

        output = asyncio.Queue()
        await self.data_source._parse_order_book_diff_message(snapshot, output)
        await self.data_source._parse_order_book_diff_message(diffs[0], output)
        snapshot_message: OrderBookMessage = output.get_nowait()
        diff_message: OrderBookMessage = output.get_nowait()
        self.assertEqual((OrderBookMessageType.SNAPSHOT, TRADING_PAIR, SNAPSHOT_NONCE),
                         (snapshot_message.type, snapshot_message.trading_pair, snapshot_message.update_id))
        self.assertEqual([2000.0], [bid.price for bid in snapshot_message.bids])
        self.assertEqual([(2325.0, 99.0), (2341.25, 340.1028)], [(a.price, a.amount) for a in snapshot_message.asks])
        self.assertEqual((OrderBookMessageType.DIFF, 904870), (diff_message.type, diff_message.update_id))
        self.assertEqual([(2064.54, 0.3285)], [(a.price, a.amount) for a in diff_message.asks])
        self.assertAlmostEqual(1774884082.326, diff_message.timestamp, places=3)
        self.assertEqual(0, self.data_source.gap_count)

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_gap_drops_the_update_and_resubscribes_the_book(self, ws_connect_mock):
        ws = await self.listen(ws_connect_mock, [payloads.WS_BOOK_SNAPSHOT, book_update(SNAPSHOT_NONCE + 3, 904870),
                                                 book_update(904870, 904900)])

        self.assertEqual([SNAPSHOT_NONCE], [book["order_book"]["nonce"] for book in self.queued_books()])
        self.assertEqual(1, self.data_source.gap_count)
        self.assertEqual([{"type": "unsubscribe", "channel": "order_book/0"},
                          {"type": "subscribe", "channel": "order_book/0"}], await self.sent_after_resubscribing(ws))
        self.assertTrue(self.is_logged("INFO", f"Order book gap on market 0 (expected begin_nonce {SNAPSHOT_NONCE}, "
                                               f"got {SNAPSHOT_NONCE + 3})"))

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_fresh_snapshot_after_a_gap_restarts_the_sequence(self, ws_connect_mock):
        resnapshot = payloads.fresh(payloads.WS_BOOK_SNAPSHOT)
        resnapshot["order_book"]["nonce"] = 905000
        await self.listen(ws_connect_mock, [payloads.WS_BOOK_SNAPSHOT, book_update(1, 904870), resnapshot,
                                            book_update(905000, 905010)])

        self.assertEqual([("subscribed/order_book", SNAPSHOT_NONCE), ("subscribed/order_book", 905000),
                          ("update/order_book", 905010)],
                         [(book["type"], book["order_book"]["nonce"]) for book in self.queued_books()])

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_updates_before_the_snapshot_are_dropped(self, ws_connect_mock):
        await self.listen(ws_connect_mock, [book_update(904800, SNAPSHOT_NONCE), payloads.WS_BOOK_SNAPSHOT])

        self.assertEqual(["subscribed/order_book"], [book["type"] for book in self.queued_books()])
        self.assertEqual(0, self.data_source.gap_count)

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_old_format_updates_without_nonces_pass_in_order(self, ws_connect_mock):
        await self.listen(ws_connect_mock, [payloads.WS_BOOK_SNAPSHOT_OLD, payloads.WS_BOOK_UPDATE_OLD])

        _, diff = self.queued_books()
        output = asyncio.Queue()
        await self.data_source._parse_order_book_diff_message(diff, output)
        message = output.get_nowait()
        self.assertEqual((OrderBookMessageType.DIFF, 995817), (message.type, message.update_id))

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_trades_are_parsed_with_the_taker_side(self, ws_connect_mock):
        sold = payloads.fresh(payloads.WS_TRADE_UPDATE)
        sold["trades"][0].update(is_maker_ask=True, trade_id_str="16164557908")
        await self.listen(ws_connect_mock, [payloads.WS_TRADE_UPDATE_LIVE, sold])

        raw_trades = self.queued(self.data_source._trade_messages_queue_key)
        output = asyncio.Queue()
        for raw in raw_trades:
            await self.data_source._parse_trade_message(raw, output)
        sold_message, bought = output.get_nowait(), output.get_nowait()
        # is_maker_ask false (the live frame): the maker was the bid, so the taker sold; true, the taker bought.
        self.assertEqual((OrderBookMessageType.TRADE, TRADING_PAIR, "212746642", float(TradeType.SELL.value)),
                         (sold_message.type, sold_message.trading_pair, sold_message.trade_id,
                          sold_message.content["trade_type"]))
        self.assertEqual((4332.51, 0.2308), (sold_message.content["price"], sold_message.content["amount"]))
        self.assertEqual(("16164557908", float(TradeType.BUY.value)), (bought.trade_id, bought.content["trade_type"]))

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_last_trade_price_ends_on_the_newest_trade_of_a_frame(self, ws_connect_mock):
        # The live frame is of market 1; moved to this test's market 0, its trades and their order unchanged.
        frame = payloads.fresh(payloads.WS_TRADE_UPDATE_LIVE_PAIR)
        frame["channel"] = "trade:0"
        for trade in frame["trades"]:
            trade["market_id"] = 0
        # Hummingbot's own tracker applies the trade messages to the book.
        tracker = OrderBookTracker(data_source=self.data_source, trading_pairs=[TRADING_PAIR])
        order_book = tracker._order_books[TRADING_PAIR] = OrderBook()
        applied = EventLogger()
        order_book.add_listener(OrderBookEvent.TradeEvent, applied)
        tracker._order_books_initialized.set()
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(self.data_source.listen_for_trades(loop, tracker._order_book_trade_stream)),
                 loop.create_task(tracker._emit_trade_event_loop())]
        self.addCleanup(lambda: [task.cancel() for task in tasks])

        await self.listen(ws_connect_mock, [frame])
        for _ in range(100):
            if len(applied.event_log) == 2:
                break
            await asyncio.sleep(0)

        self.assertEqual([("212746646", 121044.3, TradeType.SELL), ("212746647", 121043.6, TradeType.SELL)],
                         [(event.trade_id, event.price, event.type) for event in applied.event_log])
        self.assertEqual(121043.6, order_book.last_trade_price)

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_market_stats_become_funding_info_updates(self, ws_connect_mock):
        self.data_source._time = lambda: 1774883844.933
        await self.listen(ws_connect_mock, [payloads.WS_MARKET_STATS_SINGLE])

        (raw,) = self.queued(self.data_source._funding_info_messages_queue_key)
        output = asyncio.Queue()
        await self.data_source._parse_funding_info_message(raw, output)
        update: FundingInfoUpdate = output.get_nowait()
        self.assertEqual((TRADING_PAIR, Decimal("2064.48"), Decimal("2064.47"), Decimal("0.00000001")),
                         (update.trading_pair, update.index_price, update.mark_price, update.rate))
        self.assertEqual(1774890000, update.next_funding_utc_timestamp)
        # Once market_stats arrived, funding info needs no REST call.
        info = await self.data_source.get_funding_info(TRADING_PAIR)
        self.assertEqual((Decimal("2064.47"), Decimal("0.00000001")), (info.mark_price, info.rate))

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_ping_is_answered_and_error_frames_are_logged(self, ws_connect_mock):
        already_subscribed = {"error": {"code": 30003, "message": "Already Subscribed to : trade:0"}}
        ws = await self.listen(ws_connect_mock, [payloads.WS_PING, already_subscribed])

        self.assertEqual({"type": "pong"}, self.sent(ws)[-1])
        self.assertEqual(4, len(self.sent(ws)))
        self.assertTrue(self.is_logged("WARNING", "Lighter WebSocket error: {'code': 30003"))
        self.assertFalse(self.listening_task.done())

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_subscribe_and_unsubscribe_a_pair_while_connected(self, ws_connect_mock):
        ws = await self.listen(ws_connect_mock, [payloads.WS_CONNECTED])
        self.data_source.remove_trading_pair(TRADING_PAIR)

        self.assertTrue(await self.data_source.subscribe_to_trading_pair(TRADING_PAIR))
        self.assertTrue(await self.data_source.unsubscribe_from_trading_pair(TRADING_PAIR))

        channels = ["order_book/0", "trade/0"]
        self.assertEqual([{"type": "subscribe", "channel": c} for c in channels]
                         + [{"type": "unsubscribe", "channel": c} for c in channels], self.sent(ws)[3:])
        self.assertNotIn(TRADING_PAIR, self.data_source._trading_pairs)

    async def test_subscribe_without_connection_is_refused(self):
        self.assertFalse(await self.data_source.subscribe_to_trading_pair(TRADING_PAIR))
        self.assertFalse(await self.data_source.unsubscribe_from_trading_pair(TRADING_PAIR))
        self.assertTrue(self.is_logged("WARNING", f"Cannot subscribe to {TRADING_PAIR}"))

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_periodic_snapshot_request_resubscribes_the_books(self, ws_connect_mock):
        ws = await self.listen(ws_connect_mock, [payloads.WS_BOOK_SNAPSHOT])

        await self.data_source._request_order_book_snapshots(asyncio.Queue())

        self.assertIsNone(self.data_source._last_nonce[0])
        self.assertEqual([{"type": "unsubscribe", "channel": "order_book/0"},
                          {"type": "subscribe", "channel": "order_book/0"}], await self.sent_after_resubscribing(ws))

    @patch.object(module, "FRESH_SNAPSHOT_TIMEOUT", 0.1)
    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_a_resubscription_without_snapshot_is_asked_again(self, ws_connect_mock):
        ws = await self.listen(ws_connect_mock, [payloads.WS_BOOK_SNAPSHOT, book_update(1, 904870)])
        resubscribe = [{"type": "unsubscribe", "channel": "order_book/0"},
                       {"type": "subscribe", "channel": "order_book/0"}]
        for _ in range(100):
            if len(self.sent(ws)) >= 7:
                break
            await asyncio.sleep(0.02)

        self.assertEqual(resubscribe * 2, self.sent(ws)[3:7])
        self.assertTrue(self.is_logged("WARNING", "No fresh order book snapshot for market 0 within 0.1 s; asking "
                                                  "again."))
        # The snapshot ends the asking.
        resnapshot = payloads.fresh(payloads.WS_BOOK_SNAPSHOT)
        resnapshot["order_book"]["nonce"] = 905000
        self.mocking_assistant.add_websocket_aiohttp_message(ws, json.dumps(resnapshot))
        await self.mocking_assistant.run_until_all_aiohttp_messages_delivered(ws)
        await asyncio.sleep(0.3)
        self.assertEqual(905000, self.data_source._last_nonce[0])
        self.assertTrue(all(task.done() for task in self.data_source._resubscribing.values()))
        sent = len(self.sent(ws))
        await asyncio.sleep(0.3)
        self.assertEqual(sent, len(self.sent(ws)))

    @patch.object(module, "FRESH_SNAPSHOT_TIMEOUT", 0.1)
    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_a_subscription_whose_snapshot_never_comes_is_asked_again(self, ws_connect_mock):
        ws = await self.listen(ws_connect_mock, [payloads.WS_CONNECTED])
        for _ in range(100):
            if len(self.sent(ws)) >= 5:
                break
            await asyncio.sleep(0.02)

        self.assertEqual([{"type": "unsubscribe", "channel": "order_book/0"},
                          {"type": "subscribe", "channel": "order_book/0"}], self.sent(ws)[3:5])
        self.assertTrue(self.is_logged("WARNING", "No order book snapshot for market 0 within 0.1 s of subscribing"))

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_a_newer_snapshot_is_not_overwritten_by_the_updates_before_it(self, ws_connect_mock):
        """Two resubscriptions' worth of frames through Hummingbot's own tracker: an update that set a level before
        a resubscribe must not bring that level back over the fresh snapshot that no longer has it."""
        first = payloads.fresh(payloads.WS_BOOK_SNAPSHOT)
        added = book_update(SNAPSHOT_NONCE, SNAPSHOT_NONCE + 10)
        added["order_book"].update(asks=[{"price": "2330.00", "size": "1.0000"}], bids=[])
        fresh = payloads.fresh(payloads.WS_BOOK_SNAPSHOT)
        fresh["order_book"]["nonce"] = SNAPSHOT_NONCE + 50
        fresh["order_book"]["asks"] = [{"price": "2341.25", "size": "2.0000"}]
        after = book_update(SNAPSHOT_NONCE + 50, SNAPSHOT_NONCE + 60)
        after["order_book"].update(asks=[], bids=[{"price": "1999.00", "size": "3.0000"}])
        tracker = OrderBookTracker(data_source=self.data_source, trading_pairs=[TRADING_PAIR])
        ws = self.mocking_assistant.create_websocket_mock()
        ws_connect_mock.return_value = ws
        for frame in (first, added):
            self.mocking_assistant.add_websocket_aiohttp_message(ws, json.dumps(frame))
        with aioresponses() as mock_api:
            # The tracker may ask for the first book before the stream is read: an empty REST book seeds it.
            mock_api.get(url_pattern(CONSTANTS.ORDER_BOOK_ORDERS_PATH), payload={"bids": [], "asks": []}, repeat=True)
            tracker.start()
            self.addCleanup(tracker.stop)
            await self.until(lambda: TRADING_PAIR in tracker._tracking_tasks)
        for _ in range(300):
            if TRADING_PAIR in tracker._tracking_tasks and 2330.0 in self.asks(tracker):
                break
            await asyncio.sleep(0.01)
        self.assertIn(2330.0, self.asks(tracker))

        for frame in (fresh, after):
            self.mocking_assistant.add_websocket_aiohttp_message(ws, json.dumps(frame))
        for _ in range(300):
            if tracker.order_books[TRADING_PAIR].snapshot_uid == SNAPSHOT_NONCE + 50 and self.bids(tracker)[0] == 1999:
                break
            await asyncio.sleep(0.01)

        self.assertEqual([2341.25], self.asks(tracker))
        self.assertEqual([1999.0, 2000.0], sorted(self.bids(tracker)))
        self.assertEqual(2.0, next(tracker.order_books[TRADING_PAIR].ask_entries()).amount)

    async def until(self, condition, attempts: int = 300):
        for _ in range(attempts):
            if condition():
                return
            await asyncio.sleep(0.01)
        self.fail("condition not met")

    @staticmethod
    def asks(tracker: OrderBookTracker) -> List[float]:
        return [row.price for row in tracker.order_books[TRADING_PAIR].ask_entries()]

    @staticmethod
    def bids(tracker: OrderBookTracker) -> List[float]:
        return [row.price for row in tracker.order_books[TRADING_PAIR].bid_entries()]

    @patch.object(module, "TRACKER_SAVED_MESSAGES", 3)
    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_a_first_book_older_than_the_tracker_keeps_is_refreshed(self, ws_connect_mock):
        nonces = [SNAPSHOT_NONCE + 10 * step for step in range(4)]
        ws = await self.listen(ws_connect_mock, [payloads.WS_BOOK_SNAPSHOT] + [
            book_update(begin, end) for begin, end in zip(nonces, nonces[1:])])

        book = await asyncio.wait_for(self.data_source._order_book_snapshot(TRADING_PAIR), 1)

        self.assertEqual(SNAPSHOT_NONCE, book.update_id)
        self.assertIsNone(self.data_source._last_nonce[0])
        self.assertEqual([{"type": "unsubscribe", "channel": "order_book/0"},
                          {"type": "subscribe", "channel": "order_book/0"}], await self.sent_after_resubscribing(ws))
        self.assertTrue(self.is_logged("INFO", f"{TRADING_PAIR} book: more updates since its first snapshot than "
                                               f"Hummingbot keeps"))

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_first_book_and_funding_info_come_from_the_stream_without_rest(self, ws_connect_mock):
        stats = payloads.fresh(payloads.WS_MARKET_STATS_ALL_LIVE)
        stats["market_stats"]["0"] = dict(stats["market_stats"]["24"], market_id=0)
        await self.listen(ws_connect_mock, [payloads.WS_BOOK_SNAPSHOT, stats])
        for kind in (self.data_source._funding_info_messages_queue_key,):
            for raw in self.queued(kind):
                await self.data_source._parse_funding_info_message(raw, asyncio.Queue())

        with aioresponses() as mock_api:
            book = await asyncio.wait_for(self.data_source._order_book_snapshot(TRADING_PAIR), 1)
            info = await asyncio.wait_for(self.data_source.get_funding_info(TRADING_PAIR), 1)

        self.assertEqual((OrderBookMessageType.SNAPSHOT, SNAPSHOT_NONCE), (book.type, book.update_id))
        self.assertEqual([2000.0], [bid.price for bid in book.bids])
        self.assertEqual(Decimal("43.6030"), info.mark_price)
        self.assertEqual({}, dict(mock_api.requests))

    async def test_all_market_stats_update_only_tracked_pairs(self):
        stats = payloads.fresh(payloads.WS_MARKET_STATS_ALL_LIVE)
        stats["market_stats"]["0"] = dict(stats["market_stats"]["24"], market_id=0)
        output = asyncio.Queue()

        await self.data_source._parse_funding_info_message(stats, output)

        (update,) = [output.get_nowait() for _ in range(output.qsize())]
        self.assertEqual(TRADING_PAIR, update.trading_pair)
        self.assertEqual({0, 24}, set(self.data_source._market_stats))

    @patch.object(module, "STREAM_WAIT_SECONDS", 0.01)
    @aioresponses()
    async def test_rest_snapshot_sums_orders_into_levels(self, mock_api):
        orders = payloads.fresh(payloads.ORDER_BOOK_ORDERS)
        orders["bids"].append(dict(orders["bids"][0], order_index=1, remaining_base_amount="0.5875"))
        mock_api.get(url_pattern(CONSTANTS.ORDER_BOOK_ORDERS_PATH), body=json.dumps(orders))

        message = await self.data_source._order_book_snapshot(TRADING_PAIR)

        self.assertEqual((OrderBookMessageType.SNAPSHOT, TRADING_PAIR), (message.type, message.trading_pair))
        self.assertEqual([(2361.17, 4.0)], [(bid.price, bid.amount) for bid in message.bids])
        self.assertEqual([(2361.32, 0.0317)], [(ask.price, ask.amount) for ask in message.asks])
        (request,) = mock_api.requests.values()
        self.assertEqual({"market_id": 0, "limit": 250}, request[0].kwargs["params"])

    @patch.object(module, "STREAM_WAIT_SECONDS", 0.01)
    @aioresponses()
    async def test_rest_funding_info_uses_lighters_rate_and_the_last_trade_price(self, mock_api):
        mock_api.get(url_pattern(CONSTANTS.FUNDING_RATES_PATH), body=json.dumps(payloads.FUNDING_RATES))
        mock_api.get(url_pattern(CONSTANTS.ORDER_BOOK_DETAILS_PATH), body=json.dumps(payloads.ORDER_BOOK_DETAILS))
        self.data_source._time = lambda: 1777945103.0

        info = await self.data_source.get_funding_info(TRADING_PAIR)

        self.assertEqual((Decimal("2361.31"), Decimal("2361.31")), (info.index_price, info.mark_price))
        self.assertEqual(Decimal("0.00009599999999999999") / 8, info.rate)
        self.assertEqual(1777946400, info.next_funding_utc_timestamp)

    @aioresponses()
    async def test_last_traded_prices_come_from_the_connector(self, mock_api):
        mock_api.get(url_pattern(CONSTANTS.ORDER_BOOK_DETAILS_PATH), body=json.dumps(payloads.ORDER_BOOK_DETAILS))

        prices = await self.data_source.get_last_traded_prices([TRADING_PAIR])

        self.assertEqual({TRADING_PAIR: 2361.31}, prices)

    @aioresponses()
    async def test_last_traded_prices_come_from_market_stats_once_streamed(self, mock_api):
        await self.data_source._parse_funding_info_message(payloads.WS_MARKET_STATS_SINGLE, asyncio.Queue())

        prices = await self.data_source.get_last_traded_prices([TRADING_PAIR])

        self.assertEqual({TRADING_PAIR: 2064.50}, prices)
        self.assertEqual(0, len(mock_api.requests))
