"""REST handlers under /api/v1, with the venue's paths, parameters, response shapes and error envelope."""
import asyncio
import json
import logging
from typing import Callable, Dict, List, Optional

from aiohttp import web

from emulator.lighter import constants as C, views
from emulator.lighter.auth import check_token
from emulator.lighter.engine import Events
from emulator.lighter.errors import LighterError
from emulator.lighter.faults import REFUSAL_MESSAGES
from emulator.lighter.funding_history import FundingHistory
from emulator.lighter.markets import MICRO
from emulator.lighter.state import Account, ReceivedRequest, now_ms

CANDLE_RESOLUTIONS = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400, "12h": 43200,
                      "1d": 86400, "1w": 604800}
OTHER_VENUES = (("binance", 0.00001), ("bybit", -0.00002), ("hyperliquid", 0.00003))
MISSING_AUTH = "auth query param and Authorization header are empty"
REDACTED = "***"


def json_response(payload: dict, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(payload, separators=(",", ":")), status=status,
                        content_type="application/json")


def _param_error(name: str) -> LighterError:
    return LighterError(C.INVALID_PARAM, detail=name)


def int_param(request: web.Request, name: str, default: Optional[int] = None, low: Optional[int] = None,
              high: Optional[int] = None) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        if default is None:
            raise _param_error(name)
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _param_error(name)
    if (low is not None and value < low) or (high is not None and value > high):
        raise _param_error(name)
    return value


def str_param(request: web.Request, name: str, choices=None, default: Optional[str] = None) -> str:
    value = request.query.get(name, default)
    if value is None or (choices is not None and value not in choices):
        raise _param_error(name)
    return value


def _page(items: List, request: web.Request, limit: int):
    """Cursor pagination: `limit` is at most 100 and `cursor` is the next_cursor of the previous page (lighter-python's
    ReqGetTrades / ReqGetAccountInactiveOrders; Orders and Trades answers carry next_cursor, a string). Inferred: the
    cursor is opaque to clients (here the offset of the next page), a list is read newest first, and the last page
    carries "" (the SDK model allows null; nautilus_trader's client reads on until a page comes back empty)."""
    cursor = request.query.get("cursor") or "0"
    if not cursor.isdigit():
        raise _param_error("cursor")
    start = int(cursor)
    page = items[start:start + limit]
    next_cursor = str(start + limit) if start + limit < len(items) else ""
    return page, next_cursor


class RestApi:
    """Route table and handlers; `emulator` gives access to state, engine, txs, hub and faults."""

    def __init__(self, emulator):
        self.ex = emulator
        self.state = emulator.state

    def routes(self) -> Dict[str, Callable]:
        return {
            "/api/v1/orderBookDetails": self.order_book_details,
            "/api/v1/orderBooks": self.order_books,
            "/api/v1/orderBookOrders": self.order_book_orders,
            "/api/v1/recentTrades": self.recent_trades,
            "/api/v1/trades": self.trades,
            "/api/v1/account": self.account,
            "/api/v1/accountsByL1Address": self.accounts_by_l1_address,
            "/api/v1/accountActiveOrders": self.active_orders,
            "/api/v1/accountInactiveOrders": self.inactive_orders,
            "/api/v1/accountLimits": self.account_limits,
            "/api/v1/nextNonce": self.next_nonce,
            "/api/v1/apikeys": self.api_keys,
            "/api/v1/funding-rates": self.funding_rates,
            "/api/v1/fundings": FundingHistory(self.ex).fundings,
            "/api/v1/positionFunding": self.position_funding,
            "/api/v1/exchangeStats": self.exchange_stats,
            "/api/v1/candles": self.candles,
        }

    def install(self, app: web.Application):
        for path, handler in self.routes().items():
            app.router.add_get(path, handler)
        app.router.add_post("/api/v1/sendTx", self.send_tx)
        app.router.add_post("/api/v1/sendTxBatch", self.send_tx_batch)

    # ---- middleware: request log, faults, latency, error envelope ----------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        form: Dict[str, str] = {}
        if request.method == "POST":
            try:
                form = {key: str(value) for key, value in (await request.post()).items()}
            except ValueError:
                form = {}
            request["form"] = form
        self._record(request, form)
        targets = [request.path]
        if request.path == "/api/v1/sendTx":
            targets.append(f"tx:{form.get('tx_type')}")
        elif request.path == "/api/v1/sendTxBatch":
            try:
                targets.extend(f"tx:{tx_type}" for tx_type in json.loads(form.get("tx_types", "[]")))
            except (TypeError, ValueError):
                pass
        latency = self.ex.latency_ms
        rules = self.ex.faults.take(targets)
        for rule in rules:
            latency += rule.latency_ms
        if latency:
            await asyncio.sleep(latency / 1000)
        for rule in rules:
            if rule.timeout_ms:
                await asyncio.sleep(rule.timeout_ms / 1000)
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=504)
            if rule.status is not None:
                code, message = C.TOO_MANY_REQUESTS if rule.status == 429 else (rule.status, "internal error")
                return json_response({"code": code, "message": message}, status=rule.status)
            if rule.code is not None:
                message = REFUSAL_MESSAGES.get(rule.code, "internal error")
                response = json_response({"code": rule.code, "message": message}, status=400)
                if rule.disconnect:
                    response.force_close()
                return response
        hold_ms = max((rule.hold_ms for rule in rules), default=0)
        if hold_ms:
            # Held, then executed even if the client stopped waiting: the execution is shielded from its leaving.
            return await asyncio.shield(asyncio.ensure_future(self._answer(request, handler, hold_ms)))
        response = await self._answer(request, handler)
        if any(rule.answer_lost for rule in rules):
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=504)
        return response

    @staticmethod
    async def _answer(request: web.Request, handler, hold_ms: int = 0) -> web.Response:
        if hold_ms:
            await asyncio.sleep(hold_ms / 1000)
        try:
            return await handler(request)
        except LighterError as error:
            return json_response(error.body(), status=error.http_status)
        except web.HTTPException as error:
            return json_response({"code": error.status, "message": error.reason.lower()}, status=error.status)
        except Exception:
            # The emulator's own failure: said with its traceback, or a test would see only a 500.
            logging.getLogger(__name__).exception(f"The Lighter emulator failed on {request.method} {request.path}")
            return json_response({"code": 500, "message": "internal server error"}, status=500)

    def _record(self, request: web.Request, form: Dict[str, str]):
        params = {key: (REDACTED if key == "auth" else value) for key, value in request.query.items()}
        headers = {key.lower(): (REDACTED if key.lower() == "authorization" else value)
                   for key, value in request.headers.items()}
        self.state.requests.append(ReceivedRequest(transport="rest", method=request.method, path=request.path,
                                                   params=params, form=dict(form), headers=headers,
                                                   received_ms=now_ms()))

    # ---- helpers -----------------------------------------------------------------------------------------

    def _authorized(self, request: web.Request, account_index: int) -> Account:
        token = request.headers.get("authorization") or request.query.get("auth")
        check_token(self.state, token, account_index, missing_reason=MISSING_AUTH)
        return self.state.accounts[account_index]

    def _market_id(self, request: web.Request, default: Optional[int] = None) -> int:
        market_id = int_param(request, "market_id", default=default)
        if market_id != C.NIL_MARKET_INDEX and market_id not in self.state.markets:
            raise _param_error("market_id")
        return market_id

    def _account(self, account_index: int) -> Account:
        account = self.state.account(account_index)
        if account is None:
            raise LighterError(C.ACCOUNT_NOT_FOUND)
        return account

    def _visible(self, orders, market_id: int) -> List:
        now = now_ms()
        return [order for order in orders
                if order.visible_at_ms <= now and (market_id == C.NIL_MARKET_INDEX or order.market_id == market_id)]

    def _orders_json(self, orders) -> List[dict]:
        return [views.order_view(order, self.state.markets[order.market_id], snapshot=True) for order in orders]

    # ---- markets -----------------------------------------------------------------------------------------

    def _selected_markets(self, request: web.Request):
        kind = str_param(request, "filter", choices=("all", "perp", "spot"), default="all")
        market_id = self._market_id(request, default=C.NIL_MARKET_INDEX)
        if kind == "spot":
            return []
        return [market for mid, market in sorted(self.state.markets.items())
                if market_id == C.NIL_MARKET_INDEX or mid == market_id]

    async def order_book_details(self, request: web.Request) -> web.Response:
        markets = self._selected_markets(request)
        return json_response({"code": C.OK_CODE, "order_book_details": [views.market_details(m) for m in markets],
                              "spot_order_book_details": []})

    async def order_books(self, request: web.Request) -> web.Response:
        markets = self._selected_markets(request)
        return json_response({"code": C.OK_CODE, "order_books": [views.market_summary(m) for m in markets]})

    async def order_book_orders(self, request: web.Request) -> web.Response:
        market_id = self._market_id(request)
        limit = int_param(request, "limit", low=1, high=250)
        market = self.state.markets[market_id]
        book = self.ex.engine.books[market_id]
        asks = [views.simple_order_view(order, market) for order in book.orders(True, limit)]
        bids = [views.simple_order_view(order, market) for order in book.orders(False, limit)]
        return json_response({"code": C.OK_CODE, "total_asks": len(asks), "asks": asks, "total_bids": len(bids),
                              "bids": bids})

    async def recent_trades(self, request: web.Request) -> web.Response:
        market_id = self._market_id(request)
        limit = int_param(request, "limit", low=1, high=100)
        market = self.state.markets[market_id]
        fills = list(market.recent_fills)[-limit:]
        return json_response({"code": C.OK_CODE, "trades": [views.trade_view(f, market) for f in reversed(fills)]})

    async def exchange_stats(self, request: web.Request) -> web.Response:
        fields = ("symbol", "last_trade_price", "daily_trades_count", "daily_base_token_volume",
                  "daily_quote_token_volume", "daily_price_change")
        stats = []
        for market in self.state.markets.values():
            detail = views.market_details(market)
            stats.append({key: detail[key] for key in fields})
        volume = sum(market.daily_quote_volume for market in self.state.markets.values()) / MICRO
        trades = sum(market.daily_trades for market in self.state.markets.values())
        return json_response({"code": C.OK_CODE, "total": len(stats), "order_book_stats": stats,
                              "daily_usd_volume": volume, "daily_trades_count": trades})

    async def funding_rates(self, request: web.Request) -> web.Response:
        rows = []
        for market in self.state.markets.values():
            # an 8-hour-equivalent rate, as a fraction, for Lighter and for the other venues it tracks
            rate = float(market.spec.funding_rate) / 100 * 8
            rows.append({"market_id": market.spec.market_id, "exchange": "lighter", "symbol": market.spec.symbol,
                         "rate": rate})
            for venue, offset in OTHER_VENUES:
                rows.append({"market_id": market.spec.market_id, "exchange": venue, "symbol": market.spec.symbol,
                             "rate": rate + offset})
        return json_response({"code": C.OK_CODE, "funding_rates": rows})

    async def candles(self, request: web.Request) -> web.Response:
        market_id = self._market_id(request)
        resolution = str_param(request, "resolution", choices=tuple(CANDLE_RESOLUTIONS))
        start = _to_ms(int_param(request, "start_timestamp", low=0))
        end = _to_ms(int_param(request, "end_timestamp", low=0))
        count_back = int_param(request, "count_back", low=0)
        market = self.state.markets[market_id]
        width = CANDLE_RESOLUTIONS[resolution] * 1000
        candles: Dict[int, dict] = {}
        price_scale = 10 ** market.spec.price_decimals
        for fill in market.recent_fills:
            if not start <= fill.timestamp_ms <= end:
                continue
            bucket = fill.timestamp_ms - fill.timestamp_ms % width
            price = fill.price / price_scale
            candle = candles.get(bucket)
            if candle is None:
                candle = candles[bucket] = {"t": bucket, "o": price, "h": price, "l": price, "c": price, "v": 0.0,
                                            "V": 0.0, "i": fill.trade_id}
            candle["h"], candle["l"], candle["c"] = max(candle["h"], price), min(candle["l"], price), price
            candle["v"] += fill.size / 10 ** market.spec.size_decimals
            candle["V"] += fill.usd_amount / MICRO
            candle["i"] = fill.trade_id
        rows = [candles[key] for key in sorted(candles)]
        rows = rows[-count_back:] if count_back else rows
        # No candle is null, not [] (nautilus_trader http_candles_null.json); at most 500 a call (lighter-sdk Candles).
        return json_response({"code": C.OK_CODE, "r": resolution, "c": rows[-500:] or None})

    # ---- accounts ----------------------------------------------------------------------------------------

    async def account(self, request: web.Request) -> web.Response:
        by = str_param(request, "by", choices=("index", "l1_address"))
        value = str_param(request, "value")
        if by == "index":
            if not value.isdigit():
                raise _param_error("value")
            accounts = [self._account(int(value))]
        else:
            accounts = sorted(self.state.accounts_by_l1(value), key=lambda acct: acct.index)
            if not accounts:
                raise LighterError(C.ACCOUNT_NOT_FOUND)
        return json_response({"code": C.OK_CODE, "total": len(accounts),
                              "accounts": [views.account_view(acct, self.state) for acct in accounts],
                              "next_cursor": ""})

    async def accounts_by_l1_address(self, request: web.Request) -> web.Response:
        l1_address = str_param(request, "l1_address")
        accounts = sorted(self.state.accounts_by_l1(l1_address), key=lambda acct: acct.index)
        if not accounts:
            raise LighterError(C.ACCOUNT_NOT_FOUND)
        return json_response({"code": C.OK_CODE, "l1_address": accounts[0].l1_address,
                              "sub_accounts": [views.account_header(acct, self.state) for acct in accounts]})

    async def active_orders(self, request: web.Request) -> web.Response:
        account_index = int_param(request, "account_index", low=0)
        market_id = self._market_id(request)
        account = self._authorized(request, account_index)
        orders = self._visible(account.active_orders.values(), market_id)
        return json_response({"code": C.OK_CODE, "orders": self._orders_json(orders)})

    async def inactive_orders(self, request: web.Request) -> web.Response:
        account_index = int_param(request, "account_index", low=0)
        limit = int_param(request, "limit", low=1, high=100)
        market_id = self._market_id(request, default=C.NIL_MARKET_INDEX)
        ask_filter = int_param(request, "ask_filter", default=-1, low=-1, high=1)
        account = self._authorized(request, account_index)
        orders = [order for order in self._visible(account.inactive_orders, market_id)
                  if ask_filter == -1 or order.is_ask == bool(ask_filter)]
        between = request.query.get("between_timestamps")
        if between:
            try:
                low, high = (int(part) for part in between.split("-"))
            except ValueError:
                raise _param_error("between_timestamps")
            orders = [order for order in orders if low <= order.updated_us // 1_000_000 <= high]
        page, next_cursor = _page(orders, request, limit)
        return json_response({"code": C.OK_CODE, "next_cursor": next_cursor, "orders": self._orders_json(page)})

    async def account_limits(self, request: web.Request) -> web.Response:
        account_index = int_param(request, "account_index", low=0)
        self._authorized(request, account_index)
        return json_response({"code": C.OK_CODE, "max_llp_percentage": 100, "max_llp_amount": "0.000000",
                              "user_tier": "standard", "can_create_public_pool": False,
                              "user_tier_name": "standard", "current_maker_fee_tick": 0,
                              "current_taker_fee_tick": 0, "leased_lit": "0.00000000",
                              "effective_lit_stakes": "0.00000000", "user_tier_last_update": 0})

    async def trades(self, request: web.Request) -> web.Response:
        sort_by = str_param(request, "sort_by", choices=("block_height", "timestamp", "trade_id"))
        limit = int_param(request, "limit", low=1, high=100)
        sort_dir = str_param(request, "sort_dir", choices=("asc", "desc"), default="desc")
        market_id = self._market_id(request, default=C.NIL_MARKET_INDEX)
        role = str_param(request, "role", choices=("all", "maker", "taker"), default="all")
        account_index = int_param(request, "account_index", default=-1, low=-1)
        order_index = int_param(request, "order_index", default=0, low=0)
        if account_index >= 0:
            fills = self._authorized(request, account_index).fills
        else:
            fills = self.state.fills
        selected = []
        for fill in fills:
            if market_id != C.NIL_MARKET_INDEX and fill.market_id != market_id:
                continue
            if order_index and order_index not in (fill.ask.order_index, fill.bid.order_index):
                continue
            if role != "all" and account_index >= 0:
                maker = fill.maker.account_index == account_index
                if (role == "maker") != maker:
                    continue
            selected.append(fill)
        key = {"block_height": lambda f: (f.block_height, f.trade_id), "timestamp": lambda f: (f.timestamp_ms,
                                                                                               f.trade_id),
               "trade_id": lambda f: f.trade_id}[sort_by]
        selected.sort(key=key, reverse=sort_dir == "desc")
        page, next_cursor = _page(selected, request, limit)
        trades = [views.trade_view(fill, self.state.markets[fill.market_id]) for fill in page]
        return json_response({"code": C.OK_CODE, "next_cursor": next_cursor, "trades": trades})

    async def position_funding(self, request: web.Request) -> web.Response:
        account_index = int_param(request, "account_index", low=0)
        limit = int_param(request, "limit", low=1, high=100)
        market_id = self._market_id(request, default=C.NIL_MARKET_INDEX)
        side = str_param(request, "side", choices=("long", "short", "all"), default="all")
        account = self._authorized(request, account_index)
        payments = [payment for payment in reversed(account.fundings)
                    if (market_id == C.NIL_MARKET_INDEX or payment.market_id == market_id)
                    and side in ("all", payment.position_side)]
        page, next_cursor = _page(payments, request, limit)
        return json_response({"code": C.OK_CODE,
                              "position_fundings": [views.funding_view(payment, self.state) for payment in page],
                              "next_cursor": next_cursor})

    # ---- keys, nonces and transactions -------------------------------------------------------------------

    async def next_nonce(self, request: web.Request) -> web.Response:
        account_index = int_param(request, "account_index", low=0)
        key_index = int_param(request, "api_key_index", low=0, high=C.MAX_API_KEY_INDEX)
        key = self._account(account_index).api_keys.get(key_index)
        if key is None:
            raise LighterError(C.API_KEY_NOT_FOUND)
        return json_response({"code": C.OK_CODE, "nonce": self.ex.txs.reported_next_nonce(account_index, key)})

    async def api_keys(self, request: web.Request) -> web.Response:
        account_index = int_param(request, "account_index", low=0)
        key_index = int_param(request, "api_key_index", default=C.NIL_API_KEY_INDEX, low=0, high=C.NIL_API_KEY_INDEX)
        account = self._account(account_index)
        keys = [key for index, key in sorted(account.api_keys.items()) if key_index in (C.NIL_API_KEY_INDEX, index)]
        return json_response({"code": C.OK_CODE, "api_keys": [views.api_key_view(account.index, k) for k in keys]})

    async def send_tx(self, request: web.Request) -> web.Response:
        form = request["form"]
        if "tx_type" not in form or "tx_info" not in form:
            raise _param_error("tx_type field not set" if "tx_type" not in form else "tx_info field not set")
        events = Events()
        tx_hash = self.ex.txs.send(form["tx_type"], form["tx_info"], events)
        self.ex.hub.publish(events)
        return json_response({"code": C.OK_CODE, "message": C.RATE_LIMIT_MESSAGE, "tx_hash": tx_hash,
                              "predicted_execution_time_ms": self.ex.txs.predicted_execution_time_ms(),
                              "volume_quota_remaining": C.VOLUME_QUOTA})

    async def send_tx_batch(self, request: web.Request) -> web.Response:
        form = request["form"]
        try:
            tx_types = json.loads(form["tx_types"])
            tx_infos = json.loads(form["tx_infos"])
        except (KeyError, ValueError):
            raise _param_error("tx_types/tx_infos")
        if not isinstance(tx_types, list) or not isinstance(tx_infos, list):
            raise _param_error("tx_types/tx_infos")
        events = Events()
        try:
            hashes = self.ex.txs.send_batch(tx_types, tx_infos, events)
        finally:
            self.ex.hub.publish(events)
        return json_response({"code": C.OK_CODE, "message": C.RATE_LIMIT_MESSAGE, "tx_hash": hashes,
                              "predicted_execution_time_ms": self.ex.txs.predicted_execution_time_ms(),
                              "volume_quota_remaining": C.VOLUME_QUOTA})


def _to_ms(timestamp: int) -> int:
    """Accepts seconds or milliseconds."""
    return timestamp * 1000 if timestamp < 100_000_000_000 else timestamp
