"""Lighter wire payloads shared by the connector's unit tests.

Captured or official frames (sources in test/fixtures/README.md): mainnet REST captures of 2026-05-05 (nautilus_trader
test data), live WebSocket captures of 2025-10 (Qubx test data), response comments of ccxt's lighter.ts, and frames
that follow Lighter's WebSocket documentation. Tests derive variants with `fresh()`, never by editing these.
"""
import copy
import json
import os
import unittest
from typing import Any, Dict
from unittest.mock import patch

from lighter.signer_client import create_api_key

from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as CONSTANTS

# A real key pair from the official signer, so that the signer really signs in tests.
API_PRIVATE_KEY, API_PUBLIC_KEY, _error = create_api_key()
assert _error is None, _error
ACCOUNT_INDEX = 1077
API_KEY_INDEX = 3
OTHER_ACCOUNT_INDEX = 61127
NEXT_NONCE = 19


def decode_form(body: bytes, content_type: str) -> Dict[str, str]:
    """The fields of a multipart form body, as the connector sends sendTx and sendTxBatch."""
    boundary = content_type.split("boundary=", 1)[1].strip('"')
    fields = {}
    for chunk in body.split(f"--{boundary}".encode())[1:-1]:
        head, _, value = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        name = head.decode().split('name="', 1)[1].split('"', 1)[0]
        fields[name] = value.decode()
    return fields


def fresh(payload: Dict[str, Any]) -> Dict[str, Any]:
    return copy.deepcopy(payload)


def use_default_urls(test_case: unittest.TestCase):
    """Other tests point the connector at a local emulator through the environment; these mock the default URLs."""
    environment = patch.dict(os.environ)
    environment.start()
    test_case.addCleanup(environment.stop)
    for variable in (CONSTANTS.REST_URL_ENV_VAR, CONSTANTS.WSS_URL_ENV_VAR):
        os.environ.pop(variable, None)


def _load(text: str) -> Dict[str, Any]:
    return json.loads(text)


# GET /api/v1/orderBookDetails, mainnet capture 2026-05-05.
ORDER_BOOK_DETAILS = _load("""
{"code": 200, "order_book_details": [{"symbol": "ETH", "market_id": 0, "market_type": "perp", "base_asset_id": 0,
 "quote_asset_id": 0, "status": "active", "taker_fee": "0.0000", "is_taker_fee_enabled": true, "maker_fee": "0.0000",
 "is_maker_fee_enabled": true, "liquidation_fee": "1.0000", "min_base_amount": "0.0050",
 "min_quote_amount": "10.000000",
 "order_quote_limit": "281474976.710655", "supported_size_decimals": 4, "supported_price_decimals": 2,
 "supported_quote_decimals": 6, "size_decimals": 4, "price_decimals": 2, "quote_multiplier": 1,
 "default_initial_margin_fraction": 500, "min_initial_margin_fraction": 200, "maintenance_margin_fraction": 120,
 "closeout_margin_fraction": 80, "last_trade_price": 2361.31, "daily_trades_count": 428074,
 "daily_base_token_volume": 195399.1521, "daily_quote_token_volume": 460664167.955905, "daily_price_low": 2313.36,
 "daily_price_high": 2398, "daily_price_change": -0.5215684126709949, "open_interest": 27350.8981, "daily_chart": {},
 "market_config": {"market_margin_mode": 0, "insurance_fund_account_index": 281474976710655, "liquidation_mode": 0,
 "force_reduce_only": false, "trading_hours": "", "funding_fee_discounts_enabled": false, "hidden": false,
 "rfq_enabled": true}, "strategy_index": 2}], "spot_order_book_details": []}
""")
ETH_MARKET = ORDER_BOOK_DETAILS["order_book_details"][0]

# A spot entry as listed by /orderBookDetails (ccxt lighter.ts comment): not a perpetual market.
SPOT_MARKET = _load("""
{"symbol": "ETH/USDC", "market_id": 2048, "market_type": "spot", "base_asset_id": 1, "quote_asset_id": 3,
 "status": "active", "taker_fee": "0.0000", "maker_fee": "0.0000", "liquidation_fee": "0.0000",
 "min_base_amount": "0.0001", "min_quote_amount": "0.000001", "order_quote_limit": "2500000.000000",
 "supported_size_decimals": 4, "supported_price_decimals": 2, "supported_quote_decimals": 6, "size_decimals": 4,
 "price_decimals": 2, "last_trade_price": 2731.79, "daily_trades_count": 126993,
 "daily_base_token_volume": 1203.0962, "daily_quote_token_volume": 3516374.947553, "daily_price_low": 2717.47,
 "daily_price_high": 3044.21, "daily_price_change": -10.2389493724579, "daily_chart": "{1640995200:3024.66}"}
""")

# GET /api/v1/orderBooks, mainnet capture 2026-05-05.
ORDER_BOOKS = _load("""
{"code": 200, "order_books": [{"symbol": "ETH", "market_id": 0, "market_type": "perp", "base_asset_id": 0,
 "quote_asset_id": 0, "status": "active", "taker_fee": "0.0000", "is_taker_fee_enabled": true, "maker_fee": "0.0000",
 "is_maker_fee_enabled": true, "liquidation_fee": "1.0000", "min_base_amount": "0.0050",
 "min_quote_amount": "10.000000",
 "order_quote_limit": "281474976.710655", "supported_size_decimals": 4, "supported_price_decimals": 2,
 "supported_quote_decimals": 6}]}
""")

# GET /api/v1/orderBookOrders?market_id=0, mainnet capture 2026-05-05.
ORDER_BOOK_ORDERS = _load("""
{"code": 200, "total_asks": 1, "asks": [{"order_index": 281476929689581, "order_id": "281476929689581",
 "owner_account_index": 281474976641952, "initial_base_amount": "0.0317", "remaining_base_amount": "0.0317",
 "price": "2361.32", "order_expiry": 1780364303894, "transaction_time": 0}], "total_bids": 1,
 "bids": [{"order_index": 562947905454787, "order_id": "562947905454787", "owner_account_index": 281474976618239,
 "initial_base_amount": "3.4125", "remaining_base_amount": "3.4125", "price": "2361.17", "order_expiry": 1780537103955,
 "transaction_time": 0}]}
""")

# GET /api/v1/recentTrades, mainnet capture 2026-05-05.
RECENT_TRADES = _load("""
{"code": 200, "trades": [{"trade_id": 19211490282, "trade_id_str": "19211490282",
 "tx_hash": "000000128ba361090000019df5c94af4000000000000000000000000000000000000000000000000", "type": "trade",
 "market_id": 0, "size": "0.0005", "price": "2361.31", "usd_amount": "1.180655", "ask_id": 281476929689557,
 "ask_id_str": "281476929689557", "bid_id": 562947905454831, "bid_id_str": "562947905454831", "ask_client_id": 0,
 "ask_client_id_str": "0", "bid_client_id": 410940644, "bid_client_id_str": "410940644", "ask_account_id": 719347,
 "bid_account_id": 281474976639642, "is_maker_ask": false, "block_height": 227557648, "timestamp": 1777945103092,
 "taker_position_size_before": "0.6611", "taker_entry_quote_before": "1556.462172",
 "taker_initial_margin_fraction_before": 200, "maker_fee": 28, "maker_position_size_before": "-76.0264",
 "maker_entry_quote_before": "179127.402288", "maker_initial_margin_fraction_before": 200,
 "transaction_time": 1777945103092648}]}
""")

# GET /api/v1/account?by=index&value=1077 (ccxt lighter.ts fetchPositions comment), an open ETH long.
ACCOUNT = _load("""
{"code": 200, "total": 2, "accounts": [{"code": 0, "account_type": 0, "index": 1077,
 "l1_address": "0x15f43D1f2DeE81424aFd891943262aa90F22cc2A", "cancel_all_time": 0, "total_order_count": 0,
 "total_isolated_order_count": 0, "pending_order_count": 0, "available_balance": "12582.743947", "status": 1,
 "collateral": "9100.242706", "account_index": 1077, "name": "", "description": "", "can_invite": true,
 "referral_points_percentage": "", "positions": [{"market_id": 0, "symbol": "ETH", "initial_margin_fraction": "5.00",
 "open_order_count": 0, "pending_order_count": 0, "position_tied_order_count": 0, "sign": 1, "position": "18.0193",
 "avg_entry_price": "2669.84", "position_value": "54306.566340", "unrealized_pnl": "6197.829558",
 "realized_pnl": "0.000000", "liquidation_price": "2191.1107231380406", "margin_mode": 0,
 "allocated_margin": "0.000000"}], "assets": [], "total_asset_value": "15298.072264000002",
 "cross_asset_value": "15298.072264000002", "shares": []}]}
""")

# The newer account field set (nautilus http_account.json): a flat BTC row kept for a market traded before.
ACCOUNT_FLAT = _load("""
{"code": 200, "total": 1, "accounts": [{"code": 0, "account_type": 0, "index": 123456,
 "l1_address": "0x0000000000000000000000000000000000000000", "cancel_all_time": 0, "total_order_count": 0,
 "total_isolated_order_count": 0, "pending_order_count": 0, "available_balance": "0.000000", "status": 1,
 "collateral": "0.000000", "transaction_time": 0, "account_trading_mode": 0, "account_index": 123456, "name": "",
 "description": "", "can_invite": false, "referral_points_percentage": "", "can_rfq": false,
 "can_rfq_market_ids": null, "created_at": 0, "metadata": {"color": ""}, "positions": [{"market_id": 1,
 "symbol": "BTC", "initial_margin_fraction": "10.00", "open_order_count": 0, "pending_order_count": 0,
 "position_tied_order_count": 0, "sign": 1, "position": "0.00000", "avg_entry_price": "0.0",
 "position_value": "0.000000", "unrealized_pnl": "0.000000", "realized_pnl": "0.000000", "liquidation_price": "0",
 "margin_mode": 0, "allocated_margin": "0.000000"}], "assets": [{"symbol": "USDC", "asset_id": 3,
 "balance": "0.000000", "locked_balance": "0.000000", "margin_mode": "disabled", "margin_balance": "0.000000"}],
 "total_asset_value": "0.000000", "cross_asset_value": "0.000000", "cross_initial_margin_requirement": "0.000000",
 "cross_maintenance_margin_requirement": "0.000000", "shares": [], "pending_unlocks": [],
 "approved_integrators": []}]}
""")

# GET /api/v1/accountInactiveOrders (ccxt lighter.ts comment): an order the exchange refused for margin.
INACTIVE_ORDERS = _load("""
{"code": 200, "orders": [{"order_index": 281474977354074, "client_order_index": 0, "order_id": "281474977354074",
 "client_order_id": "0", "market_index": 0, "owner_account_index": 1077, "initial_base_amount": "36.0386",
 "price": "2221.60", "nonce": 643418, "remaining_base_amount": "0.0000", "is_ask": true, "base_size": 0,
 "base_price": 222160, "filled_base_amount": "0.0000", "filled_quote_amount": "0.000000", "side": "",
 "type": "market", "time_in_force": "immediate-or-cancel", "reduce_only": false, "trigger_price": "0.00",
 "order_expiry": 0, "status": "canceled-margin-not-allowed", "trigger_status": "na", "trigger_time": 0,
 "parent_order_index": 0, "parent_order_id": "0", "to_trigger_order_id_0": "0", "to_trigger_order_id_1": "0",
 "to_cancel_order_id_0": "0", "block_height": 102202, "timestamp": 1766387932, "created_at": 1766387932,
 "updated_at": 1766387932}]}
""")

# An order in the newer field set (nautilus http_orders.json): open, millisecond timestamps.
OPEN_ORDERS = _load("""
{"code": 200, "next_cursor": "cursor-1", "orders": [{"order_index": 281476929510110, "client_order_index": 42,
 "order_id": "281476929510110", "client_order_id": "42", "market_index": 0, "owner_account_index": 712440,
 "initial_base_amount": "0.0050", "price": "2352.74", "nonce": 9182390020, "remaining_base_amount": "0.0050",
 "is_ask": true, "base_size": 50, "base_price": 235274, "filled_base_amount": "0.0000",
 "filled_quote_amount": "0.000000", "side": "sell", "type": "limit", "time_in_force": "good-till-time",
 "reduce_only": false, "trigger_price": "0.00", "order_expiry": 1780360584479, "status": "open",
 "trigger_status": "na", "trigger_time": 0, "parent_order_index": 0, "parent_order_id": "0",
 "to_trigger_order_id_0": "0", "to_trigger_order_id_1": "0", "to_cancel_order_id_0": "0",
 "integrator_fee_collector_index": "0", "integrator_taker_fee": "0", "integrator_maker_fee": "0",
 "block_height": 227535532, "timestamp": 1777941383576, "created_at": 1777941383576, "updated_at": 1777941383576,
 "transaction_time": 1777941383576735}]}
""")

# POST /api/v1/sendTx answers.
SEND_TX_OK = _load("""
{"code": 200, "message": "{\\"ratelimit\\": \\"didn't use volume quota\\"}",
 "predicted_execution_time_ms": 1762241985117,
 "tx_hash": "45bf0ca74fec3d37f26355ea50f92e3247afb574ad08031eeacc90f0e5dc8ba5a89a1d6a537b3dff"}
""")
SEND_TX_BATCH_OK = _load("""
{"code": 200, "message": "{\\"ratelimit\\": \\"didn't use volume quota\\"}",
 "predicted_execution_time_ms": 1762241985117,
 "tx_hash": ["f4957a2678e459f9c882f1f8d2849c26a070ce0c5a9a963d3131e2d2040932f892f7e69a380df537",
             "486eb7041b3d6e19954c1f2630c54a574c3965e0d9d19df38e75054329b091a8f2d04e0495df462f"]}
""")
INVALID_NONCE = {"code": 21104, "message": "invalid nonce"}
ORDER_NOT_ACTIVE = {"code": 21715, "message": "given order is not an active order"}
ORDER_INACTIVE = {"code": 21709, "message": "order is inactive"}
NOT_ENOUGH_MARGIN = {"code": 21739, "message": "not enough margin to create the order"}
API_KEY_NOT_FOUND = {"code": 21109, "message": "api key not found"}

# GET /api/v1/funding-rates: Lighter's own row and another venue's (8-hour equivalents).
FUNDING_RATES = _load("""
{"code": 200, "funding_rates": [{"market_id": 0, "exchange": "binance", "symbol": "ETH", "rate": 0.0001},
 {"market_id": 0, "exchange": "lighter", "symbol": "ETH", "rate": 0.00009599999999999999}]}
""")

# --- WebSocket frames -------------------------------------------------------------------------------------------

# order_book/0 in the current format (nonce / begin_nonce), per the official WebSocket docs.
WS_BOOK_SNAPSHOT = _load("""
{"channel": "order_book:0", "last_updated_at": 1778138389655150, "offset": 2164, "order_book": {"code": 0,
 "asks": [{"price": "2325.00", "size": "99.0000"}, {"price": "2341.25", "size": "340.1028"}],
 "bids": [{"price": "2000.00", "size": "0.0200"}], "offset": 2164, "nonce": 904845,
 "last_updated_at": 1778138389655150, "begin_nonce": 0}, "timestamp": 1778138582602, "type": "subscribed/order_book"}
""")
WS_BOOK_UPDATE = _load("""
{"channel": "order_book:0", "last_updated_at": 1774884082309144, "offset": 1558300, "order_book": {"code": 0,
 "asks": [{"price": "2064.54", "size": "0.3285"}], "bids": [], "offset": 1558300, "nonce": 9182390020,
 "last_updated_at": 1774884082309144, "begin_nonce": 9182389998}, "timestamp": 1774884082326,
 "type": "update/order_book"}
""")
# The same channel before the nonce fields existed (live capture 2025-10-09): offsets only.
WS_BOOK_SNAPSHOT_OLD = _load("""
{"channel": "order_book:0", "offset": 995816, "order_book": {"code": 0, "asks": [{"price": "4332.75",
 "size": "0.6998"}, {"price": "4332.78", "size": "34.3559"}], "bids": [{"price": "4332.51", "size": "4.1698"},
 {"price": "4332.50", "size": "0.3462"}], "offset": 995816}, "timestamp": 1760041996025,
 "type": "subscribed/order_book"}
""")
WS_BOOK_UPDATE_OLD = _load("""
{"channel": "order_book:0", "offset": 995817, "order_book": {"code": 0, "asks": [{"price": "4333.14",
 "size": "73.3574"}, {"price": "4333.22", "size": "0.0000"}, {"price": "4333.32", "size": "36.2177"}], "bids": [],
 "offset": 995817}, "timestamp": 1760041996048, "type": "update/order_book"}
""")

# trade/0, live capture 2025-10-09 (no taker_fee, no *_str fields) and the documented newer shape.
WS_TRADE_UPDATE_LIVE = _load("""
{"channel": "trade:0", "liquidation_trades": null, "nonce": 2473175091, "trades": [{"trade_id": 212746642,
 "tx_hash": "486eb7041b3d6e19954c1f2630c54a574c3965e0d9d19df38e75054329b091a8f2d04e0495df462f", "type": "trade",
 "market_id": 0, "size": "0.2308", "price": "4332.51", "usd_amount": "999.943308", "ask_id": 281475209787864,
 "bid_id": 562949723769867, "ask_account_id": 79893, "bid_account_id": 281474976659201, "is_maker_ask": false,
 "block_height": 60924299, "timestamp": 1760041996008, "taker_position_size_before": "0.2306",
 "taker_entry_quote_before": "999.137366", "taker_initial_margin_fraction_before": 200,
 "taker_position_sign_changed": true, "maker_fee": 20, "maker_position_size_before": "-136.5977",
 "maker_entry_quote_before": "589048.246921", "maker_initial_margin_fraction_before": 200}], "type": "update/trade"}
""")
WS_TRADE_UPDATE = _load("""
{"channel": "trade:0", "liquidation_trades": [], "nonce": 8630448841, "trades": [{"trade_id": 16164557907,
 "trade_id_str": "16164557907", "tx_hash": "019f2b9c", "type": "trade", "market_id": 0, "size": "0.1336",
 "price": "2181.83", "usd_amount": "291.492488", "ask_id": 281476612587355, "ask_id_str": "281476612587355",
 "bid_id": 562948334068259, "bid_id_str": "562948334068259", "ask_client_id": 363283, "ask_client_id_str": "363283",
 "bid_client_id": 23004521241, "bid_client_id_str": "23004521241", "ask_account_id": 57890, "bid_account_id": 317068,
 "is_maker_ask": false, "block_height": 198321831, "timestamp": 1773854156654, "taker_fee": 196, "maker_fee": 28,
 "transaction_time": 1773854156686065}], "type": "update/trade"}
""")

# trade/1, live capture 2025-10-09 (Qubx samples/trades/sample_05.json): two trades in one frame, listed newest first;
# is_maker_ask false, the taker sold into the bids, from 121044.3 down to 121043.6.
WS_TRADE_UPDATE_LIVE_PAIR = _load("""
{"channel": "trade:1", "liquidation_trades": null, "nonce": 2473175118, "trades": [{"trade_id": 212746647,
 "tx_hash": "000000030f14499b00000199caad8ee8000000000000000000000000000000000000000000000000", "type": "trade",
 "market_id": 1, "size": "0.00588", "price": "121043.6", "usd_amount": "711.736368", "ask_id": 562950205407313,
 "bid_id": 844424674504532, "ask_account_id": 281474976693875, "bid_account_id": 62134, "is_maker_ask": false,
 "block_height": 60924299, "timestamp": 1760041996008, "taker_position_size_before": "0.00588",
 "taker_entry_quote_before": "711.907476", "taker_initial_margin_fraction_before": 200,
 "taker_position_sign_changed": true, "maker_position_size_before": "0.00092",
 "maker_entry_quote_before": "111.359836", "maker_initial_margin_fraction_before": 200}, {"trade_id": 212746646,
 "tx_hash": "45bbdd2cf462f09a51e2c15c9424e55202d104077aa2e384c805f35b02a303fcde1720bd7424dfba", "type": "trade",
 "market_id": 1, "size": "0.00256", "price": "121044.3", "usd_amount": "309.873408", "ask_id": 562950205407313,
 "bid_id": 844424674504522, "ask_account_id": 281474976693875, "bid_account_id": 125394, "is_maker_ask": false,
 "block_height": 60924299, "timestamp": 1760041996008, "taker_position_size_before": "0.00844",
 "taker_entry_quote_before": "1021.853588", "taker_initial_margin_fraction_before": 200, "maker_fee": 20,
 "maker_position_size_before": "-6.24709", "maker_entry_quote_before": "756228.698843",
 "maker_initial_margin_fraction_before": 1000}], "type": "update/trade"}
""")

# market_stats: one market (documented shape) and all markets keyed by id (live capture 2025-10-09).
WS_MARKET_STATS_SINGLE = _load("""
{"channel": "market_stats:0", "market_stats": {"symbol": "ETH", "market_id": 0, "index_price": "2064.48",
 "mark_price": "2064.47", "mid_price": "2064.39", "open_interest": "27250.8411", "open_interest_limit": "50000.0000",
 "funding_clamp_small": "0.0001", "funding_clamp_big": "0.0002", "last_trade_price": "2064.50",
 "current_funding_rate": "0.000001", "funding_rate": "0.000002", "funding_timestamp": 1774886400000,
 "daily_base_token_volume": 199958.6931, "daily_quote_token_volume": 471193598.847246, "daily_price_low": 2311.81,
 "daily_price_high": 2398.0, "daily_price_change": 0.1685414778023213}, "timestamp": 1774883844933,
 "type": "update/market_stats"}
""")
WS_MARKET_STATS_ALL_LIVE = _load("""
{"channel": "market_stats:all", "market_stats": {"24": {"market_id": 24, "index_price": "43.5964",
 "mark_price": "43.6030", "open_interest": "85754122.131020", "open_interest_limit": "72057594037927936.000000",
 "funding_clamp_small": "0.0500", "funding_clamp_big": "4.0000", "last_trade_price": "43.6008",
 "current_funding_rate": "0.0012", "funding_rate": "0.0012", "funding_timestamp": 1760040000002,
 "daily_base_token_volume": 8819436.31, "daily_quote_token_volume": 391974018.74585, "daily_price_low": 42.3551,
 "daily_price_high": 46.8716, "daily_price_change": -5.831585722215143}}, "type": "update/market_stats"}
""")

# Private channels of account 225671, live capture 2025-10-12.
WS_ACCOUNT_ALL_FLAT = _load("""
{"account": 225671, "channel": "account_all:225671", "daily_trades_count": 6, "daily_volume": 234.518,
 "funding_histories": {}, "monthly_trades_count": 6, "monthly_volume": 234.518, "positions": {"24": {"market_id": 24,
 "symbol": "HYPE", "initial_margin_fraction": "20.00", "open_order_count": 0, "pending_order_count": 0,
 "position_tied_order_count": 0, "sign": 1, "position": "0.00", "avg_entry_price": "0.0000",
 "position_value": "-0.000000", "unrealized_pnl": "0.000000", "realized_pnl": "0.000000", "liquidation_price": "",
 "margin_mode": 0, "allocated_margin": "0.000000"}}, "shares": [], "total_trades_count": 6, "total_volume": 234.518,
 "trades": {}, "type": "subscribed/account_all", "weekly_trades_count": 6, "weekly_volume": 234.518}
""")
WS_ACCOUNT_ALL_SHORT = _load("""
{"account": 225671, "channel": "account_all:225671", "funding_histories": {}, "positions": {"24": {"market_id": 24,
 "symbol": "HYPE", "initial_margin_fraction": "20.00", "open_order_count": 0, "pending_order_count": 0,
 "position_tied_order_count": 0, "sign": -1, "position": "1.00", "avg_entry_price": "40.1342",
 "position_value": "40.130300", "unrealized_pnl": "0.003900", "realized_pnl": "0.000000", "liquidation_price": "",
 "margin_mode": 0, "allocated_margin": "0.000000"}}, "shares": [], "trades": {}, "type": "update/account_all"}
""")
WS_ACCOUNT_ALL_TRADE = _load("""
{"account": 225671, "channel": "account_all:225671", "funding_histories": {}, "positions": {}, "shares": [],
 "trades": {"24": [{"trade_id": 225067334,
 "tx_hash": "f4957a2678e459f9c882f1f8d2849c26a070ce0c5a9a963d3131e2d2040932f892f7e69a380df537", "type": "trade",
 "market_id": 24, "size": "1.00", "price": "40.1342", "usd_amount": "40.134200", "ask_id": 7036874567915800,
 "bid_id": 7318349238192658, "ask_account_id": 225671, "bid_account_id": 61127, "is_maker_ask": false,
 "block_height": 62887147, "timestamp": 1760287839079, "taker_position_size_before": "0.00",
 "taker_entry_quote_before": "0.000000", "taker_initial_margin_fraction_before": 2000,
 "taker_position_sign_changed": true, "maker_fee": 20, "maker_position_size_before": "-9.75",
 "maker_entry_quote_before": "390.795600", "maker_initial_margin_fraction_before": 1000}]},
 "type": "update/account_all"}
""")
# account_tx:225671, live capture 2025-10-12: the account's own create-order transaction (IsAsk 1, an IOC sell) whose
# hash is the tx_hash of the trade above, where that sell was the taker (ask_id 7036874567915800).
ACCOUNT_TX_HASH_OF_TAKER_SELL = "f4957a2678e459f9c882f1f8d2849c26a070ce0c5a9a963d3131e2d2040932f892f7e69a380df537"
WS_ACCOUNT_ALL_ORDERS_EMPTY = _load("""
{"channel": "account_all_orders:225671", "orders": {}, "type": "subscribed/account_all_orders"}
""")
WS_ACCOUNT_ALL_ORDERS_FILLED = _load("""
{"channel": "account_all_orders:225671", "orders": {"24": [{"order_index": 7036874567915800, "client_order_index": 0,
 "order_id": "7036874567915800", "client_order_id": "0", "market_index": 24, "owner_account_index": 225671,
 "initial_base_amount": "1.00", "price": "40.0843", "nonce": 150149400, "remaining_base_amount": "0.00",
 "is_ask": true, "base_size": 0, "base_price": 400843, "filled_base_amount": "1.00", "filled_quote_amount": "40.134200",
 "side": "", "type": "market", "time_in_force": "immediate-or-cancel", "reduce_only": false, "trigger_price": "0.0000",
 "order_expiry": 0, "status": "filled", "trigger_status": "na", "trigger_time": 0, "parent_order_index": 0,
 "parent_order_id": "0", "to_trigger_order_id_0": "0", "to_trigger_order_id_1": "0", "to_cancel_order_id_0": "0",
 "block_height": 62887147, "timestamp": 1760287839, "created_at": 1760287839, "updated_at": 1760287839}]},
 "type": "update/account_all_orders"}
""")
WS_USER_STATS = _load("""
{"channel": "user_stats:225671", "stats": {"collateral": "998.931800", "portfolio_value": "998.935700",
 "leverage": "0.04", "available_balance": "990.909640", "margin_usage": "0.80", "buying_power": "0",
 "cross_stats": {"collateral": "998.931800", "portfolio_value": "998.935700", "leverage": "0.04",
 "available_balance": "990.909640", "margin_usage": "0.80", "buying_power": "0"}, "total_stats": {
 "collateral": "998.931800", "portfolio_value": "998.935700", "leverage": "0.04", "available_balance": "990.909640",
 "margin_usage": "0.80", "buying_power": "0"}}, "type": "update/user_stats"}
""")

# Private channels in the documented newer shapes (account 1234).
WS_ACCOUNT_ALL_ASSETS = _load("""
{"assets": {"3": {"symbol": "USDC", "asset_id": 3, "balance": "10.000000", "locked_balance": "0.000000",
 "margin_mode": "disabled", "margin_balance": "40.000000"}}, "channel": "account_all_assets:1234",
 "timestamp": 1781161199648, "type": "subscribed/account_all_assets"}
""")
WS_ACCOUNT_ALL_TRADES = _load("""
{"type": "update/account_all_trades", "channel": "account_all_trades:1234", "trades": {"0": [{"trade_id": 19209006902,
 "trade_id_str": "19209006902", "tx_hash": "000000128b1ee814", "type": "trade", "market_id": 0, "size": "0.1336",
 "price": "2352.73", "usd_amount": "314.324728", "ask_id": 281476929510102, "ask_id_str": "281476929510102",
 "bid_id": 562947905631053, "bid_id_str": "562947905631053", "ask_client_id": 0, "ask_client_id_str": "0",
 "bid_client_id": 7001011966, "bid_client_id_str": "7001011966", "ask_account_id": 91249, "bid_account_id": 1234,
 "is_maker_ask": true, "block_height": 227535535, "timestamp": 1777941384181, "taker_fee": 196, "maker_fee": 28,
 "transaction_time": 1777941384181586}]}}
""")
WS_ACCOUNT_ALL_POSITIONS = _load("""
{"type": "update/account_all_positions", "channel": "account_all_positions:1234", "positions": {"0": {"market_id": 0,
 "symbol": "ETH", "initial_margin_fraction": "0.0500", "open_order_count": 1, "pending_order_count": 0,
 "position_tied_order_count": 0, "sign": 1, "position": "1.5000", "avg_entry_price": "2350.10",
 "position_value": "3525.15", "unrealized_pnl": "3.45", "realized_pnl": "0.00", "liquidation_price": "1900.00",
 "total_funding_paid_out": "0.05", "margin_mode": 0, "allocated_margin": "176.25", "total_discount": "0.00"}},
 "shares": [], "last_funding_round": null, "last_funding_discount": null}
""")
WS_ACCOUNT_ORDERS_PARTIAL = _load("""
{"type": "update/account_orders", "channel": "account_orders:0:1234", "account": 1234, "nonce": 9182390020,
 "orders": {"0": [{"order_index": 281476929510110, "client_order_index": 42, "order_id": "281476929510110",
 "client_order_id": "42", "market_index": 0, "owner_account_index": 1234, "initial_base_amount": "0.0050",
 "price": "2352.74", "nonce": 9182390020, "remaining_base_amount": "0.0030", "is_ask": true, "base_size": 50,
 "base_price": 235274, "filled_base_amount": "0.0020", "filled_quote_amount": "4.705480", "side": "sell",
 "type": "limit", "time_in_force": "good-till-time", "reduce_only": false, "trigger_price": "0.00",
 "order_expiry": 1780360584479, "status": "open", "trigger_status": "na", "trigger_time": 0, "parent_order_index": 0,
 "parent_order_id": "0", "to_trigger_order_id_0": "0", "to_trigger_order_id_1": "0", "to_cancel_order_id_0": "0",
 "integrator_fee_collector_index": "0", "integrator_taker_fee": "0", "integrator_maker_fee": "0",
 "block_height": 227535532, "timestamp": 1777941383576, "created_at": 1777941383576, "updated_at": 1777941383900,
 "transaction_time": 1777941383576735}]}}
""")

WS_EXPIRED_TOKEN = {"error": {"code": 20013, "message": "invalid auth: expired token: account_all_orders:225671"}}
WS_PING = {"type": "ping"}
WS_CONNECTED = {"type": "connected"}
