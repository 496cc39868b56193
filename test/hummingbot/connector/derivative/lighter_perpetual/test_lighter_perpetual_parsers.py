import unittest
from decimal import Decimal

from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_parsers as parsers
from hummingbot.core.data_type.in_flight_order import OrderState
from test.hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_payloads as payloads


class ConversionTests(unittest.TestCase):
    def test_to_decimal_reads_strings_numbers_and_empty_values(self):
        self.assertEqual(Decimal("2361.31"), parsers.to_decimal(2361.31))
        self.assertEqual(Decimal("0.0050"), parsers.to_decimal("0.0050"))
        # A flat position's liquidation price is "" on the wire.
        self.assertEqual(Decimal(0), parsers.to_decimal(""))
        self.assertEqual(Decimal(0), parsers.to_decimal(None))

    def test_to_seconds_accepts_seconds_milliseconds_and_microseconds(self):
        # order.timestamp (2025, seconds), trade.timestamp (ms), transaction_time (µs) of real payloads.
        self.assertEqual(1760287839, parsers.to_seconds(1760287839))
        self.assertAlmostEqual(1777945103.092, parsers.to_seconds(1777945103092), places=6)
        self.assertAlmostEqual(1777945103.092648, parsers.to_seconds(1777945103092648), places=6)
        self.assertEqual(0, parsers.to_seconds(None))

    def test_error_of(self):
        self.assertEqual((None, ""), parsers.error_of(payloads.SEND_TX_OK))
        self.assertEqual((None, ""), parsers.error_of({"code": 0}))
        self.assertEqual((21104, "invalid nonce"), parsers.error_of(payloads.INVALID_NONCE))
        self.assertEqual((None, ""), parsers.error_of("not a dict"))


class MarketTests(unittest.TestCase):
    def test_captured_eth_market(self):
        (market,) = parsers.parse_markets(payloads.ORDER_BOOK_DETAILS)

        self.assertEqual((0, "ETH", "ETH-USDC"), (market.market_id, market.symbol, market.trading_pair))
        self.assertEqual((4, 2), (market.size_decimals, market.price_decimals))
        self.assertEqual((Decimal("0.0001"), Decimal("0.01")), (market.size_increment, market.price_increment))
        self.assertEqual((Decimal("0.0050"), Decimal("10.000000")), (market.min_base_amount, market.min_quote_amount))
        self.assertEqual((Decimal(0), Decimal(0)), (market.maker_fee, market.taker_fee))
        self.assertEqual((500, 200), (market.default_initial_margin_fraction, market.min_initial_margin_fraction))
        # 200/10000 initial margin at most: 50x.
        self.assertEqual(50, market.max_leverage)
        self.assertTrue(market.active)

    def test_fees_are_percent_on_the_wire(self):
        raw = dict(payloads.ETH_MARKET, maker_fee="0.0020", taker_fee="0.0200")
        (market,) = parsers.parse_markets({"order_book_details": [raw]})
        self.assertEqual((Decimal("0.00002"), Decimal("0.0002")), (market.maker_fee, market.taker_fee))

    def test_scaling_to_the_market_integers_rounds_down(self):
        (market,) = parsers.parse_markets(payloads.ORDER_BOOK_DETAILS)
        self.assertEqual(15001, market.scaled_amount(Decimal("1.50019")))
        self.assertEqual(236131, market.scaled_price(Decimal("2361.319")))
        self.assertEqual(0, market.scaled_amount(Decimal("0.00009")))

    def test_inactive_hidden_and_spot_markets_are_not_tradable(self):
        inactive = dict(payloads.ETH_MARKET, symbol="XYZ", market_id=99, status="inactive")
        hidden = payloads.fresh(payloads.ETH_MARKET)
        hidden.update(symbol="HID", market_id=98)
        hidden["market_config"]["hidden"] = True
        details = {"order_book_details": [payloads.ETH_MARKET, inactive, hidden, payloads.SPOT_MARKET]}

        markets = {market.trading_pair: market for market in parsers.parse_markets(details)}

        self.assertEqual({"ETH-USDC", "XYZ-USDC", "HID-USDC"}, set(markets))
        self.assertEqual({"ETH-USDC"}, {pair for pair, market in markets.items() if market.active})

    def test_older_market_rows_use_supported_decimals_and_have_no_config(self):
        raw = payloads.fresh(payloads.ETH_MARKET)
        for field in ("size_decimals", "price_decimals", "market_config", "market_type"):
            del raw[field]
        raw["min_initial_margin_fraction"] = None

        (market,) = parsers.parse_markets({"order_book_details": [raw]})

        self.assertEqual((4, 2, 1), (market.size_decimals, market.price_decimals, market.max_leverage))
        self.assertTrue(market.active)

    def test_no_markets(self):
        self.assertEqual([], parsers.parse_markets({"code": 200, "order_book_details": None}))


class OrderBookTests(unittest.TestCase):
    def test_aggregate_orders_sums_rest_orders_by_price(self):
        bids = payloads.fresh(payloads.ORDER_BOOK_ORDERS)["bids"]
        same_level = dict(bids[0], order_index=1, remaining_base_amount="0.5875")
        filled = dict(bids[0], order_index=2, price="2361.00", remaining_base_amount="0.0000")

        self.assertEqual([(2361.17, 4.0)], parsers.aggregate_orders(bids + [same_level, filled]))
        self.assertEqual([(2361.32, 0.0317)], parsers.aggregate_orders(payloads.ORDER_BOOK_ORDERS["asks"]))

    def test_snapshot_with_nonces(self):
        book = parsers.parse_order_book_message(payloads.WS_BOOK_SNAPSHOT)

        self.assertTrue(book.is_snapshot)
        self.assertEqual((0, 904845, 0), (book.market_id, book.nonce, book.begin_nonce))
        self.assertEqual([(2325.0, 99.0), (2341.25, 340.1028)], book.asks)
        self.assertEqual([(2000.0, 0.02)], book.bids)
        self.assertAlmostEqual(1778138582.602, book.timestamp, places=6)

    def test_update_with_nonces(self):
        book = parsers.parse_order_book_message(payloads.WS_BOOK_UPDATE)

        self.assertFalse(book.is_snapshot)
        self.assertEqual((9182390020, 9182389998), (book.nonce, book.begin_nonce))
        self.assertEqual(([(2064.54, 0.3285)], []), (book.asks, book.bids))

    def test_old_offset_only_messages_are_ordered_by_offset(self):
        snapshot = parsers.parse_order_book_message(payloads.WS_BOOK_SNAPSHOT_OLD)
        update = parsers.parse_order_book_message(payloads.WS_BOOK_UPDATE_OLD)

        self.assertEqual((995816, None), (snapshot.nonce, snapshot.begin_nonce))
        self.assertEqual((995817, None), (update.nonce, update.begin_nonce))
        # Size 0 deletes the level.
        self.assertIn((4333.22, 0.0), update.asks)
        self.assertEqual([(4332.51, 4.1698), (4332.50, 0.3462)], snapshot.bids)

    def test_timestamp_falls_back_to_last_updated_at(self):
        message = payloads.fresh(payloads.WS_BOOK_UPDATE)
        del message["timestamp"]
        self.assertAlmostEqual(1774884082.309144, parsers.parse_order_book_message(message).timestamp, places=6)


class TradeTests(unittest.TestCase):
    def test_live_trade_maker_bid_means_taker_sold(self):
        (trade,) = parsers.parse_public_trades(payloads.WS_TRADE_UPDATE_LIVE)

        self.assertEqual((0, "212746642", 4332.51, 0.2308),
                         (trade.market_id, trade.trade_id, trade.price, trade.amount))
        # is_maker_ask false: the maker was the bid, so the taker sold.
        self.assertFalse(trade.taker_is_buyer)
        self.assertAlmostEqual(1760041996.008, trade.timestamp, places=6)

    def test_maker_ask_means_taker_bought(self):
        sample = payloads.fresh(payloads.WS_TRADE_UPDATE)
        sample["trades"][0]["is_maker_ask"] = True
        (trade,) = parsers.parse_public_trades(sample)
        self.assertTrue(trade.taker_is_buyer)
        self.assertEqual("16164557907", trade.trade_id)

    def test_trades_listed_newest_first_come_out_oldest_first(self):
        older, newer = parsers.parse_public_trades(payloads.WS_TRADE_UPDATE_LIVE_PAIR)

        # The frame lists 212746647 first; the taker sold down through the bids, so the newest price is the lower one.
        self.assertEqual(("212746646", 121044.3), (older.trade_id, older.price))
        self.assertEqual(("212746647", 121043.6), (newer.trade_id, newer.price))
        self.assertEqual([False, False], [older.taker_is_buyer, newer.taker_is_buyer])

    def test_oldest_first_orders_by_trade_id_not_by_list_position(self):
        listed = payloads.fresh(payloads.WS_TRADE_UPDATE_LIVE_PAIR)["trades"]
        listed[1]["trade_id_str"] = "212746648"  # the newer field wins over the number when both are present

        self.assertEqual([212746647, 212746648], [parsers.trade_id_of(trade) for trade in parsers.oldest_first(listed)])

    def test_liquidations_and_missing_lists_are_skipped(self):
        sample = payloads.fresh(payloads.WS_TRADE_UPDATE)
        sample["trades"].append(dict(sample["trades"][0], type="liquidation", trade_id_str="1"))
        self.assertEqual(["16164557907"], [trade.trade_id for trade in parsers.parse_public_trades(sample)])
        self.assertEqual([], parsers.parse_public_trades({"channel": "trade:0", "trades": None}))


class FundingTests(unittest.TestCase):
    def test_single_market_stats_are_percent_per_hour(self):
        now = 1774883844.933
        (stats,) = parsers.parse_market_stats(payloads.WS_MARKET_STATS_SINGLE, now=now)

        self.assertEqual((0, Decimal("2064.48"), Decimal("2064.47")), (stats.market_id, stats.index_price,
                                                                       stats.mark_price))
        # current_funding_rate "0.000001" percent per hour.
        self.assertEqual(Decimal("0.00000001"), stats.funding_rate)
        self.assertEqual(Decimal("2064.50"), stats.last_trade_price)

    def test_all_market_stats_live_capture(self):
        (stats,) = parsers.parse_market_stats(payloads.WS_MARKET_STATS_ALL_LIVE, now=1760041997.0)

        self.assertEqual(24, stats.market_id)
        self.assertEqual(Decimal("0.000012"), stats.funding_rate)
        self.assertEqual((Decimal("43.5964"), Decimal("43.6030")), (stats.index_price, stats.mark_price))
        # funding_timestamp is the last funding (20:00 UTC, the frame is of 20:33): the next one is at 21:00.
        self.assertEqual(1760043600, stats.next_funding_timestamp)

    def test_stats_without_current_rate_use_funding_rate_and_no_last_price(self):
        message = payloads.fresh(payloads.WS_MARKET_STATS_SINGLE)
        del message["market_stats"]["current_funding_rate"]
        message["market_stats"]["last_trade_price"] = ""
        (stats,) = parsers.parse_market_stats(message, now=1774883844.933)
        self.assertEqual(Decimal("0.00000002"), stats.funding_rate)
        self.assertIsNone(stats.last_trade_price)

    def test_next_funding_time(self):
        self.assertEqual(1760043600, parsers.next_funding_time(None, now=1760040000.0))
        self.assertEqual(1760043600, parsers.next_funding_time(1760040000002, now=1760041000.0))

    def test_lighter_funding_rate_ignores_other_venues_and_is_hourly(self):
        self.assertEqual(Decimal("0.00009599999999999999") / 8,
                         parsers.lighter_funding_rate(payloads.FUNDING_RATES, market_id=0))
        self.assertIsNone(parsers.lighter_funding_rate(payloads.FUNDING_RATES, market_id=1))
        binance_only = {"code": 200, "funding_rates": [payloads.FUNDING_RATES["funding_rates"][0]]}
        self.assertIsNone(parsers.lighter_funding_rate(binance_only, market_id=0))

    def test_position_funding(self):
        response = {"code": 200, "position_fundings": [
            {"timestamp": 1760040000, "market_id": 0, "funding_id": 1, "change": "-0.120000", "rate": "0.0012",
             "position_size": "18.0193", "position_side": "long", "discount": "0.000000"}]}

        (payment,) = parsers.parse_position_funding(response)

        self.assertEqual((0, 1760040000), (payment.market_id, payment.timestamp))
        self.assertEqual((Decimal("0.000012"), Decimal("-0.12")), (payment.rate, payment.amount))
        self.assertEqual([], parsers.parse_position_funding({"code": 200, "position_fundings": []}))


class AccountTests(unittest.TestCase):
    def test_balances_from_rest_and_user_stats(self):
        account = parsers.first_account(payloads.ACCOUNT, 1077)

        self.assertEqual({"USDC": parsers.Balance(total=Decimal("9100.242706"), available=Decimal("12582.743947"))},
                         parsers.parse_account_balances(account))
        self.assertEqual(parsers.Balance(total=Decimal("998.931800"), available=Decimal("990.909640")),
                         parsers.parse_user_stats(payloads.WS_USER_STATS))

    def test_spot_assets_beside_the_collateral(self):
        # The assets rows of the account answer quoted in lighter_03_account.txt (B): USDC there is a spot balance,
        # not the collateral, which stays the USDC balance.
        account = {"collateral": "9000.000000", "available_balance": "7996.489834", "assets": [
            {"symbol": "ETH", "asset_id": "1", "balance": "3.00000000", "locked_balance": "0.50000000"},
            {"symbol": "USDC", "asset_id": "3", "balance": "1000.000000", "locked_balance": "0.000000"}]}

        self.assertEqual({"ETH": parsers.Balance(total=Decimal("3"), available=Decimal("2.5")),
                          "USDC": parsers.Balance(total=Decimal("9000"), available=Decimal("7996.489834"))},
                         parsers.parse_account_balances(account))
        # The WebSocket keys the rows by asset id; its USDC row is not the collateral either.
        self.assertEqual({}, parsers.parse_asset_balances(payloads.WS_ACCOUNT_ALL_ASSETS["assets"]))

    def test_first_account_matches_the_index(self):
        self.assertEqual("0x15f43D1f2DeE81424aFd891943262aa90F22cc2A",
                         parsers.first_account(payloads.ACCOUNT, 1077)["l1_address"])
        self.assertIsNone(parsers.first_account(payloads.ACCOUNT, 1078))
        self.assertIsNone(parsers.first_account({"code": 200, "accounts": []}, 1077))

    def test_rest_position_list(self):
        (position,) = parsers.parse_positions(payloads.ACCOUNT["accounts"][0]["positions"])

        self.assertEqual((0, Decimal("18.0193"), Decimal("2669.84"), Decimal("6197.829558")),
                         (position.market_id, position.amount, position.entry_price, position.unrealized_pnl))
        # "5.00" percent initial margin: 20x.
        self.assertEqual(Decimal(20), position.leverage)

    def test_websocket_position_dict_short_and_flat(self):
        (short,) = parsers.parse_positions(payloads.WS_ACCOUNT_ALL_SHORT["positions"])
        (flat,) = parsers.parse_positions(payloads.WS_ACCOUNT_ALL_FLAT["positions"])

        self.assertEqual((24, Decimal("-1.00"), Decimal("40.1342"), Decimal(5)),
                         (short.market_id, short.amount, short.entry_price, short.leverage))
        # A flat row (liquidation price "") is kept as zero so the position is seen as closed.
        self.assertEqual(Decimal(0), flat.amount)

    def test_fraction_form_margin_and_missing_margin(self):
        (position,) = parsers.parse_positions(payloads.WS_ACCOUNT_ALL_POSITIONS["positions"])
        self.assertEqual((Decimal("1.5000"), Decimal(20)), (position.amount, position.leverage))
        row = dict(payloads.ACCOUNT_FLAT["accounts"][0]["positions"][0], initial_margin_fraction="")
        self.assertEqual(Decimal(1), parsers.parse_positions([row])[0].leverage)
        self.assertEqual([], parsers.parse_positions(None))


class OrderTests(unittest.TestCase):
    def test_every_documented_status_maps(self):
        order = payloads.OPEN_ORDERS["orders"][0]
        expected = {
            "in-progress": OrderState.OPEN, "pending": OrderState.OPEN, "open": OrderState.OPEN,
            "filled": OrderState.FILLED, "canceled": OrderState.CANCELED,
            "canceled-post-only": OrderState.FAILED, "canceled-reduce-only": OrderState.CANCELED,
            "canceled-position-not-allowed": OrderState.CANCELED, "canceled-margin-not-allowed": OrderState.FAILED,
            "canceled-too-much-slippage": OrderState.FAILED, "canceled-not-enough-liquidity": OrderState.FAILED,
            "canceled-self-trade": OrderState.CANCELED, "canceled-expired": OrderState.CANCELED,
            "canceled-oco": OrderState.CANCELED, "canceled-child": OrderState.CANCELED,
            "canceled-liquidation": OrderState.CANCELED, "canceled-invalid-balance": OrderState.FAILED,
        }
        for status, state in expected.items():
            self.assertEqual(state, parsers.parse_order(dict(order, status=status)).state, status)

    def test_unknown_status_is_none(self):
        self.assertIsNone(parsers.parse_order(dict(payloads.OPEN_ORDERS["orders"][0], status="twap-running")))
        self.assertIsNone(parsers.parse_order({}))

    def test_open_order_newer_fields(self):
        order = parsers.parse_order(payloads.OPEN_ORDERS["orders"][0])

        self.assertEqual((0, "42", "281476929510110", "open"),
                         (order.market_id, order.client_order_id, order.exchange_order_id, order.status))
        self.assertTrue(order.is_ask)
        self.assertEqual((Decimal("2352.74"), Decimal("0.0050"), Decimal(0)), (order.price, order.amount,
                                                                               order.filled_amount))
        self.assertAlmostEqual(1777941383.576, order.timestamp, places=6)

    def test_partially_filled_open_order(self):
        order = parsers.parse_order(payloads.WS_ACCOUNT_ORDERS_PARTIAL["orders"]["0"][0])

        self.assertEqual(OrderState.PARTIALLY_FILLED, order.state)
        self.assertEqual((Decimal("0.0020"), Decimal("4.705480")), (order.filled_amount, order.filled_quote))

    def test_live_filled_and_refused_orders(self):
        (filled,) = [parsers.parse_order(raw) for raw in
                     parsers.iter_orders(payloads.WS_ACCOUNT_ALL_ORDERS_FILLED["orders"])]
        (refused,) = [parsers.parse_order(raw) for raw in parsers.iter_orders(payloads.INACTIVE_ORDERS["orders"])]

        self.assertEqual((OrderState.FILLED, 24, Decimal("40.134200")), (filled.state, filled.market_id,
                                                                         filled.filled_quote))
        self.assertEqual(1760287839, filled.timestamp)
        self.assertEqual((OrderState.FAILED, "canceled-margin-not-allowed"), (refused.state, refused.status))
        self.assertEqual([], list(parsers.iter_orders(payloads.WS_ACCOUNT_ALL_ORDERS_EMPTY["orders"])))
        self.assertEqual([], list(parsers.iter_orders(None)))


class FillTests(unittest.TestCase):
    def test_taker_ask_of_the_live_account(self):
        (trade,) = parsers.iter_trades(payloads.WS_ACCOUNT_ALL_TRADE["trades"])

        (fill,) = parsers.parse_account_fills(trade, account_index=225671)

        # The account sold (ask) and, since the maker was the bid, as taker; this trade carries no taker_fee.
        self.assertEqual((True, False), (fill.is_sell, fill.is_maker))
        self.assertEqual(("225067334", "7036874567915800", ""), (fill.trade_id, fill.exchange_order_id,
                                                                 fill.client_order_id))
        self.assertEqual(payloads.ACCOUNT_TX_HASH_OF_TAKER_SELL, fill.tx_hash)
        self.assertEqual((Decimal("40.1342"), Decimal("1.00"), Decimal("40.134200")),
                         (fill.price, fill.amount, fill.quote_amount))
        self.assertEqual(Decimal(0), fill.fee)
        self.assertEqual(24, fill.market_id)

    def test_maker_bid_pays_the_maker_fee_in_millionths(self):
        (trade,) = parsers.iter_trades(payloads.WS_ACCOUNT_ALL_TRADE["trades"])

        (fill,) = parsers.parse_account_fills(trade, account_index=61127)

        self.assertEqual((False, True), (fill.is_sell, fill.is_maker))
        # maker_fee 20 millionths of 40.1342 USDC = 0.000802684, floored to the micro-USDC.
        self.assertEqual(Decimal("0.000802"), fill.fee)
        self.assertEqual("7318349238192658", fill.exchange_order_id)

    def test_taker_bid_with_client_ids(self):
        (trade,) = parsers.iter_trades(payloads.WS_ACCOUNT_ALL_TRADES["trades"])

        (fill,) = parsers.parse_account_fills(trade, account_index=1234)

        # is_maker_ask true: the ask was the maker, the account's bid the taker (taker_fee 196).
        self.assertEqual((False, False, "7001011966"), (fill.is_sell, fill.is_maker, fill.client_order_id))
        self.assertEqual(Decimal("0.061607"), fill.fee)
        self.assertAlmostEqual(1777941384.181, fill.timestamp, places=6)

    def test_self_trade_gives_both_sides(self):
        trade = dict(payloads.RECENT_TRADES["trades"][0], ask_account_id=1077, bid_account_id=1077, taker_fee=200)

        ask, bid = parsers.parse_account_fills(trade, account_index=1077)

        # is_maker_ask false: the bid was the maker (28 millionths), the ask the taker (200 millionths of 1.180655).
        # ask_client_id 0: that order was placed without a client order index.
        self.assertEqual((True, False, ""), (ask.is_sell, ask.is_maker, ask.client_order_id))
        self.assertEqual((False, True, "410940644"), (bid.is_sell, bid.is_maker, bid.client_order_id))
        self.assertEqual((Decimal("0.000236"), Decimal("0.000033")), (ask.fee, bid.fee))

    def test_other_accounts_trade_gives_no_fill(self):
        self.assertEqual([], parsers.parse_account_fills(payloads.RECENT_TRADES["trades"][0], account_index=1077))

    def test_rest_trade_list(self):
        self.assertEqual(payloads.RECENT_TRADES["trades"], list(parsers.iter_trades(payloads.RECENT_TRADES["trades"])))


class FillOwnerTests(unittest.TestCase):
    """Trades of 2025 carry no client ids (WS_ACCOUNT_ALL_TRADE): a fill finds its order by index or by tx hash."""

    def fill(self, account_index: int) -> parsers.LighterFill:
        (trade,) = parsers.iter_trades(payloads.WS_ACCOUNT_ALL_TRADE["trades"])
        (fill,) = parsers.parse_account_fills(trade, account_index=account_index)
        return fill

    def test_client_id_on_the_trade_decides_first(self):
        (trade,) = parsers.iter_trades(payloads.WS_ACCOUNT_ALL_TRADES["trades"])
        (fill,) = parsers.parse_account_fills(trade, account_index=1234)

        self.assertEqual("7001011966", parsers.fill_owner(fill, {"7001011966"}, {}, {}))
        self.assertIsNone(parsers.fill_owner(fill, {"42"}, {}, {}))

    def test_order_index_seen_on_the_orders_stream(self):
        (order,) = parsers.iter_orders(payloads.WS_ACCOUNT_ALL_ORDERS_FILLED["orders"])
        by_index = {parsers.parse_order(order).exchange_order_id: "1001"}

        self.assertEqual("1001", parsers.fill_owner(self.fill(225671), {"1001"}, by_index, {}))
        # An index of an order no longer tracked attributes nothing.
        self.assertIsNone(parsers.fill_owner(self.fill(225671), {"1002"}, by_index, {}))

    def test_tx_hash_of_the_taker_order(self):
        by_hash = {payloads.ACCOUNT_TX_HASH_OF_TAKER_SELL: "1001"}

        self.assertEqual("1001", parsers.fill_owner(self.fill(225671), {"1001"}, {}, by_hash))

    def test_tx_hash_never_names_the_maker(self):
        # The trade's hash is the taker's transaction: the maker bid (account 61127) did not place it.
        by_hash = {payloads.ACCOUNT_TX_HASH_OF_TAKER_SELL: "1001"}

        self.assertIsNone(parsers.fill_owner(self.fill(61127), {"1001"}, {}, by_hash))


class PaginationTests(unittest.TestCase):
    def test_next_cursor_of_a_page(self):
        # The schema fixture's cursor, then the last-page shapes: "", null, absent.
        self.assertEqual("cursor-1", parsers.next_page_cursor(payloads.OPEN_ORDERS, "orders", None))
        for last in ({"next_cursor": ""}, {"next_cursor": None}, {}):
            page = dict(payloads.fresh(payloads.INACTIVE_ORDERS), **last)
            self.assertIsNone(parsers.next_page_cursor(page, "orders", "cursor-1"))

    def test_an_empty_page_or_a_repeated_cursor_ends_the_list(self):
        empty = dict(payloads.fresh(payloads.OPEN_ORDERS), orders=[])

        self.assertIsNone(parsers.next_page_cursor(empty, "orders", None))
        self.assertIsNone(parsers.next_page_cursor(payloads.OPEN_ORDERS, "orders", "cursor-1"))

    def test_page_before_a_time(self):
        newer = payloads.fresh(payloads.WS_ACCOUNT_ALL_ORDERS_FILLED["orders"]["24"][0])  # updated_at 1760287839
        older = dict(payloads.fresh(newer), updated_at=1760287000, timestamp=1760287000)

        self.assertTrue(parsers.page_before([newer, older], since=1760287840))
        self.assertFalse(parsers.page_before([newer, older], since=1760287839))
        # Listed oldest first, a page says nothing about the pages after it.
        self.assertFalse(parsers.page_before([older, newer], since=1760287840))
        self.assertFalse(parsers.page_before([], since=1760287840))

    def test_page_before_reads_trade_times_in_milliseconds(self):
        trades = payloads.fresh(payloads.WS_TRADE_UPDATE_LIVE_PAIR)["trades"]  # newest first, 1760041996008 ms

        self.assertTrue(parsers.page_before(trades, since=1760041996.009))
        self.assertFalse(parsers.page_before(trades, since=1760041996.008))
