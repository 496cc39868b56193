"""WebSocket hub at /stream: subscriptions, snapshots, fan-out of state changes, pings and WS sendtx.

Each frame is serialized once per channel and queued to every subscriber; one writer task per
connection drains its queue, so publishing never awaits and per-connection order is preserved.
"""
import asyncio
import json
import logging
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, List, Optional, Set

from aiohttp import WSCloseCode, WSMsgType, web

from emulator.lighter import constants as C, views
from emulator.lighter.auth import check_token
from emulator.lighter.engine import Events, MatchingEngine
from emulator.lighter.errors import LighterError
from emulator.lighter.faults import REFUSAL_MESSAGES, Faults
from emulator.lighter.state import ExchangeState, ReceivedRequest, now_ms, now_us
from emulator.lighter.txs import TxProcessor

PUBLIC_MARKET_CHANNELS = ("order_book", "trade", "market_stats")
PRIVATE_CHANNELS = ("account_all", "account_all_orders", "account_all_trades", "account_all_positions",
                    "account_all_assets", "user_stats")
TRADE_REPLAY = 50
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# Close code after a refusal that ends the connection (inferred: the venue's is not documented).
REFUSAL_CLOSE_CODE = WSCloseCode.TRY_AGAIN_LATER
# Queued after an answer, the writer closes the connection once everything before it was sent.
_CLOSE = object()
# Frames queued to one connection that its client has not read yet. A client this far behind is disconnected, with
# a WARNING (inferred: Lighter does not document how it treats slow readers; dropping frames silently would break the
# order book's nonce chain without a trace).
SEND_QUEUE_LIMIT = 20_000
_TOO_SLOW = object()
logger = logging.getLogger(__name__)


# Per-IP WebSocket limits, from Lighter's rate-limits page (test/fixtures/lighter_rate_limits.txt): connections,
# new connections a minute, client messages a minute (jsonapi/sendtx and sendtxbatch excluded), subscriptions a
# connection. Codes and messages are the venue's (23000-23003). Inferred, since the page does not say: the minute is
# a sliding 60 s window; a connection over a per-IP limit gets the error frame and is closed; a subscription over the
# per-connection limit is refused with the error and the connection stays. The 50 in-flight messages are not modeled
# (every frame is answered as it is handled).
TOO_MANY_REQUESTS_FRAME = (23000, "Too Many Requests!")
TOO_MANY_SUBSCRIPTIONS = (23001, "Too Many Subscriptions!")
TOO_MANY_CONNECTIONS = (23003, "Too Many Connections!")
UNCOUNTED_FRAMES = ("jsonapi/sendtx", "jsonapi/sendtxbatch")


@dataclass
class WsIpLimits:
    """Counts per client IP; `enabled = False` turns enforcement off, `disconnects` lists (ip, reason) of closes."""
    connections: int = 200
    new_connections_per_minute: int = 80
    messages_per_minute: int = 200
    subscriptions_per_connection: int = 500
    enabled: bool = True
    window_s: float = 60.0
    disconnects: List[tuple] = field(default_factory=list)
    _open: Dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _opened: Dict[str, Deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _messages: Dict[str, Deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def _count(self, times: Deque[float], at: Optional[float] = None) -> int:
        now = time.monotonic() if at is None else at
        while times and times[0] <= now - self.window_s:
            times.popleft()
        times.append(now)
        return len(times)

    def connect(self, ip: str) -> Optional[str]:
        """Counts a new connection; a refusal's reason when it is over a limit (it is then not counted as open)."""
        opened = self._count(self._opened[ip])
        if not self.enabled:
            self._open[ip] += 1
            return None
        if self._open[ip] >= self.connections:
            return f"{self.connections} open connections"
        if opened > self.new_connections_per_minute:
            return f"{self.new_connections_per_minute} new connections a minute"
        self._open[ip] += 1
        return None

    def disconnect(self, ip: str):
        self._open[ip] = max(0, self._open[ip] - 1)

    def message(self, ip: str, kind, arrived: float) -> bool:
        """Counts a client frame at the (monotonic) time it arrived; False when it is over the per-IP limit."""
        if kind in UNCOUNTED_FRAMES:
            return True
        return self._count(self._messages[ip], arrived) <= self.messages_per_minute or not self.enabled


def dumps(payload: dict) -> str:
    return json.dumps(payload, separators=(",", ":"))


def error_frame(code: int, message: str) -> str:
    return dumps({"error": {"code": code, "message": message}})


class Connection:
    __slots__ = ("ws", "queue", "wakeup", "inbox", "channels", "last_recv", "last_ping", "closed", "writer",
                 "reader", "ip")

    def __init__(self, ws: web.WebSocketResponse, ip: str = ""):
        self.ws = ws
        self.ip = ip
        self.queue: Deque[str] = deque()
        self.wakeup = asyncio.Event()
        # Client frames with the time each is due, handled in arrival order (see WsHub.latency_ms).
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.channels: Set[str] = set()
        self.last_recv = time.monotonic()
        self.last_ping = 0.0
        self.closed = False
        self.writer: Optional[asyncio.Task] = None
        self.reader: Optional[asyncio.Task] = None

    def send(self, text):
        if self.closed:
            return
        if len(self.queue) >= SEND_QUEUE_LIMIT:
            logger.warning(f"Lighter emulator: a client left {SEND_QUEUE_LIMIT} frames unread; its connection is "
                           f"closed.")
            self.closed = True
            self.queue.clear()
            self.queue.append(_TOO_SLOW)
            self.wakeup.set()
            return
        self.queue.append(text)
        self.wakeup.set()

    def close_after_sent(self):
        self.send(_CLOSE)

    async def run_writer(self):
        try:
            while not self.closed:
                await self.wakeup.wait()
                self.wakeup.clear()
                queue = self.queue
                while queue:
                    text = queue.popleft()
                    if text is _CLOSE:
                        await self.ws.close(code=REFUSAL_CLOSE_CODE)
                        return
                    if text is _TOO_SLOW:
                        await self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow: send queue full")
                        return
                    await self.ws.send_str(text)
        except (ConnectionResetError, RuntimeError):
            self.closed = True


class WsHub:
    def __init__(self, state: ExchangeState, engine: MatchingEngine, txs: TxProcessor, faults: Faults,
                 ping_interval_s: float, idle_timeout_s: float):
        self.state = state
        self.engine = engine
        self.txs = txs
        self.faults = faults
        self.ping_interval_s = ping_interval_s
        self.idle_timeout_s = idle_timeout_s
        # Added to every client frame, like the REST latency to every request: each frame is handled this long after
        # it arrived, in order, without waiting for the frames before it (frames sent back to back stay pipelined).
        self.latency_ms = 0
        self.connections: Set[Connection] = set()
        self.channels: Dict[str, Set[Connection]] = {}
        self.limits = WsIpLimits()
        self._snapshots: Dict[str, Callable[[str, str], dict]] = {
            "order_book": self._book_snapshot,
            "trade": self._trade_snapshot,
            "market_stats": self._stats_snapshot,
            "account_all": self._account_all_snapshot,
            "account_all_orders": self._orders_snapshot,
            "account_all_trades": self._trades_snapshot,
            "account_all_positions": self._positions_snapshot,
            "account_all_assets": self._assets_snapshot,
            "user_stats": self._user_stats_snapshot,
        }
        faults.bind_ws_closer(self.close_all)

    # ---- connection lifecycle ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES)
        await ws.prepare(request)
        ip = request.remote or ""
        refused = self.limits.connect(ip)
        if refused is not None:
            self.limits.disconnects.append((ip, refused))
            await ws.send_str(error_frame(*TOO_MANY_CONNECTIONS))
            await ws.close(code=REFUSAL_CLOSE_CODE)
            return ws
        conn = Connection(ws, ip)
        self.connections.add(conn)
        conn.writer = asyncio.create_task(conn.run_writer())
        conn.reader = asyncio.create_task(self._handle_frames(conn))
        conn.send(dumps({"session_id": str(uuid.uuid4()), "type": "connected"}))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    conn.last_recv = time.monotonic()
                    conn.inbox.put_nowait((conn.last_recv + self.latency_ms / 1000, msg.data))
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self._drop(conn)
        return ws

    async def _handle_frames(self, conn: Connection):
        try:
            while True:
                due, text = await conn.inbox.get()
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self._on_frame(conn, text, due - self.latency_ms / 1000)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The emulator's own failure: a reader that died quietly would leave the client waiting for answers.
            logger.exception("The Lighter emulator failed handling a client frame; the connection is closed.")
            await conn.ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal error")

    def _drop(self, conn: Connection):
        self.limits.disconnect(conn.ip)
        conn.closed = True
        conn.wakeup.set()
        self.connections.discard(conn)
        for key in conn.channels:
            subscribers = self.channels.get(key)
            if subscribers is not None:
                subscribers.discard(conn)
                if not subscribers:
                    del self.channels[key]
        conn.channels.clear()
        for task in (conn.writer, conn.reader):
            if task is not None:
                task.cancel()

    def close_all(self, code: int = WSCloseCode.GOING_AWAY):
        for conn in list(self.connections):
            asyncio.ensure_future(conn.ws.close(code=code))

    async def keepalive(self):
        """Pings connections idle for `ping_interval_s`; closes those silent for `idle_timeout_s`."""
        while True:
            await asyncio.sleep(min(self.ping_interval_s, self.idle_timeout_s) / 2)
            now = time.monotonic()
            for conn in list(self.connections):
                idle = now - conn.last_recv
                if idle > self.idle_timeout_s:
                    asyncio.ensure_future(conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"idle timeout"))
                elif idle > self.ping_interval_s and now - conn.last_ping > self.ping_interval_s:
                    conn.last_ping = now
                    conn.send(dumps({"type": "ping"}))

    # ---- client frames -----------------------------------------------------------------------------------

    async def _on_frame(self, conn: Connection, text: str, arrived: float):
        try:
            frame = json.loads(text)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            conn.send(error_frame(C.INVALID_PARAM[0], "invalid param : invalid message"))
            return
        kind = frame.get("type")
        self._record(kind, frame)
        # Counted when it arrived: a busy server handling a burst late must not move it into a later minute.
        if not self.limits.message(conn.ip, kind, arrived):
            self.limits.disconnects.append((conn.ip, f"{self.limits.messages_per_minute} messages a minute"))
            conn.send(error_frame(*TOO_MANY_REQUESTS_FRAME))
            conn.close_after_sent()
            return
        if kind == "subscribe":
            self._subscribe(conn, frame)
        elif kind == "unsubscribe":
            self._unsubscribe(conn, frame)
        elif kind == "ping":
            conn.send('{"type":"pong"}')
        elif kind in ("jsonapi/sendtx", "jsonapi/sendtxbatch"):
            await self._send_tx(conn, kind, frame.get("data"))
        elif kind != "pong":
            conn.send(error_frame(C.INVALID_PARAM[0], f"invalid param : unknown message type {kind}"))

    def _record(self, kind, frame: dict):
        logged = {k: ("***" if k == "auth" else v) for k, v in frame.items()}
        self.state.requests.append(ReceivedRequest(transport="ws", method=str(kind), path=str(frame.get("channel", "")),
                                                   params={}, form=logged, headers={}, received_ms=now_ms()))

    def _subscribe(self, conn: Connection, frame: dict):
        channel = frame.get("channel")
        name, _, arg = channel.partition("/") if isinstance(channel, str) else ("", "", "")
        builder = self._snapshots.get(name)
        if builder is None or (not arg.isdigit() and not (name == "market_stats" and arg == "all")):
            conn.send(error_frame(C.INVALID_CHANNEL, "Invalid Channel:  (marketId)"))
            return
        key = f"{name}:{arg}"
        if self.limits.enabled and len(conn.channels) >= self.limits.subscriptions_per_connection:
            conn.send(error_frame(*TOO_MANY_SUBSCRIPTIONS))
            return
        if key in conn.channels:
            conn.send(error_frame(C.ALREADY_SUBSCRIBED, f"Already Subscribed to : {key}"))
            return
        if name in PUBLIC_MARKET_CHANNELS and arg != "all" and int(arg) not in self.state.markets:
            conn.send(error_frame(C.INVALID_CHANNEL, "Invalid Channel:  (marketId)"))
            return
        if name in PRIVATE_CHANNELS:
            try:
                check_token(self.state, frame.get("auth"), int(arg), scope=key)
            except LighterError as error:
                conn.send(error_frame(error.code, error.message))
                return
        conn.channels.add(key)
        self.channels.setdefault(key, set()).add(conn)
        conn.send(dumps(builder(key, arg)))

    def _unsubscribe(self, conn: Connection, frame: dict):
        channel = frame.get("channel")
        key = channel.replace("/", ":", 1) if isinstance(channel, str) else ""
        conn.channels.discard(key)
        subscribers = self.channels.get(key)
        if subscribers is not None:
            subscribers.discard(conn)
            if not subscribers:
                del self.channels[key]
        # the venue spells this one frame with spaces
        conn.send(json.dumps({"type": "unsubscribed", "channel": key}))

    async def _send_tx(self, conn: Connection, kind: str, data):
        data = data if isinstance(data, dict) else {}
        request_id = data.get("id") if self.faults.answer_ids else None
        events = Events()
        disconnect = False
        try:
            if kind == "jsonapi/sendtx":
                tx_types, tx_infos = [data.get("tx_type")], [data.get("tx_info")]
            else:
                tx_types, tx_infos = _json_list(data.get("tx_types")), _json_list(data.get("tx_infos"))
            rules = self.faults.take([f"tx:{tx_type}" for tx_type in tx_types])
            disconnect = any(rule.disconnect for rule in rules)
            for rule in rules:
                if rule.latency_ms:
                    await asyncio.sleep(rule.latency_ms / 1000)
                if rule.timeout_ms:
                    return  # lost: never executed, never answered
                if rule.status is not None:
                    raise LighterError(C.TOO_MANY_REQUESTS if rule.status == 429 else (rule.status, "internal error"))
                if rule.code is not None:
                    raise LighterError((rule.code, REFUSAL_MESSAGES.get(rule.code, "internal error")))
            hold_ms = max((rule.hold_ms for rule in rules), default=0)
            if hold_ms:
                # Accepted, then executed late: frames behind it wait, and it executes even if the client leaves.
                await asyncio.shield(asyncio.ensure_future(
                    self._execute_held(conn, hold_ms, kind, request_id, tx_types, tx_infos)))
                return
            reply = self._execute(kind, request_id, tx_types, tx_infos, events)
            if any(rule.answer_lost for rule in rules):
                reply = None
        except LighterError as error:
            reply = self._refusal(kind, request_id, error)
        if reply is not None:
            conn.send(dumps(reply))
        self.publish(events)
        if disconnect:
            conn.close_after_sent()

    def _execute(self, kind: str, request_id, tx_types: list, tx_infos: list, events: Events) -> dict:
        if kind == "jsonapi/sendtx":
            tx_hash = self.txs.send(tx_types[0], tx_infos[0], events)
        else:
            tx_hash = self.txs.send_batch(tx_types, tx_infos, events)
        reply = {"type": kind, "id": request_id} if self.faults.answer_ids else {"type": kind}
        reply.update(code=C.OK_CODE, message=C.RATE_LIMIT_MESSAGE, tx_hash=tx_hash,
                     predicted_execution_time_ms=self.txs.predicted_execution_time_ms(),
                     volume_quota_remaining=C.VOLUME_QUOTA)
        return reply

    def _refusal(self, kind: str, request_id, error: LighterError) -> dict:
        if self.faults.error_object:
            reply = {"error": {"code": error.code, "message": error.message}}
            if request_id is not None:
                reply["id"] = request_id
            return reply
        reply = {"type": kind, "id": request_id} if self.faults.answer_ids else {"type": kind}
        reply.update(code=error.code, message=error.message)
        return reply

    async def _execute_held(self, conn: Connection, hold_ms: int, kind: str, request_id, tx_types: list,
                            tx_infos: list):
        await asyncio.sleep(hold_ms / 1000)
        events = Events()
        try:
            reply = self._execute(kind, request_id, tx_types, tx_infos, events)
        except LighterError as error:
            reply = self._refusal(kind, request_id, error)
        conn.send(dumps(reply))  # nothing is sent once the connection closed
        self.publish(events)

    # ---- snapshots ---------------------------------------------------------------------------------------

    def _book_snapshot(self, key: str, arg: str) -> dict:
        market = self.state.markets[int(arg)]
        book = self.engine.books[market.spec.market_id]
        body = {"code": 0, "asks": views.levels_view(market, book.levels(True)),
                "bids": views.levels_view(market, book.levels(False)), "offset": market.book_offset,
                "nonce": market.book_nonce, "last_updated_at": market.last_updated_us, "begin_nonce": 0}
        return {"channel": key, "last_updated_at": market.last_updated_us, "offset": market.book_offset,
                "order_book": body, "timestamp": now_ms(), "type": "subscribed/order_book"}

    def _trade_snapshot(self, key: str, arg: str) -> dict:
        market = self.state.markets[int(arg)]
        fills = list(market.recent_fills)[-TRADE_REPLAY:]
        trades = [views.trade_view(fill, market) for fill in reversed(fills)]
        return {"channel": key, "liquidation_trades": [], "nonce": market.book_nonce, "trades": trades,
                "type": "subscribed/trade"}

    def _stats_snapshot(self, key: str, arg: str) -> dict:
        return self._stats_frame(key, arg, list(self.state.markets), "subscribed/market_stats")

    def _stats_frame(self, key: str, arg: str, market_ids, kind: str) -> dict:
        if arg == "all":
            stats = {str(mid): views.market_stats(self.state.markets[mid], self._mid(mid)) for mid in market_ids}
        else:
            stats = views.market_stats(self.state.markets[int(arg)], self._mid(int(arg)))
        return {"channel": key, "market_stats": stats, "timestamp": now_ms(), "type": kind}

    def _mid(self, market_id: int) -> Optional[int]:
        book = self.engine.books[market_id]
        best_ask, best_bid = book.asks.best(), book.bids.best()
        if best_ask is None or best_bid is None:
            return None
        return (best_ask + best_bid) // 2

    def _account_all_snapshot(self, key: str, arg: str) -> dict:
        account = self.state.accounts[int(arg)]
        volume = sum(fill.usd_amount for fill in account.fills) / 1_000_000
        count = len(account.fills)
        positions = {str(mid): views.position_view(account, pos, self.state) for mid, pos in account.positions.items()}
        return {"account": account.index, "channel": key, "daily_trades_count": count, "daily_volume": volume,
                "funding_histories": {}, "monthly_trades_count": count, "monthly_volume": volume,
                "positions": positions, "shares": [], "total_trades_count": count, "total_volume": volume,
                "trades": {}, "type": "subscribed/account_all", "weekly_trades_count": count,
                "weekly_volume": volume}

    def _orders_snapshot(self, key: str, arg: str) -> dict:
        account = self.state.accounts[int(arg)]
        orders = views.group_by_market(
            [views.order_view(order, self.state.markets[order.market_id], snapshot=True)
             for order in account.active_orders.values()], lambda order: order["market_index"])
        return {"channel": key, "orders": orders, "type": "subscribed/account_all_orders"}

    def _trades_snapshot(self, key: str, arg: str) -> dict:
        account = self.state.accounts[int(arg)]
        volume = sum(fill.usd_amount for fill in account.fills) / 1_000_000
        # the venue never replays fill history here: the snapshot's trades are always empty
        return {"channel": key, "daily_volume": volume, "monthly_volume": volume, "total_volume": volume,
                "trades": {}, "type": "subscribed/account_all_trades", "weekly_volume": volume}

    def _positions_snapshot(self, key: str, arg: str) -> dict:
        account = self.state.accounts[int(arg)]
        positions = {str(mid): views.position_view(account, pos, self.state) for mid, pos in account.positions.items()}
        return {"channel": key, "positions": positions, "shares": [], "type": "subscribed/account_all_positions"}

    def _assets_snapshot(self, key: str, arg: str) -> dict:
        account = self.state.accounts[int(arg)]
        return {"assets": {str(C.USDC_ASSET_ID): views.usdc_asset_view(account)}, "channel": key,
                "timestamp": now_ms(), "type": "subscribed/account_all_assets"}

    def _user_stats_snapshot(self, key: str, arg: str) -> dict:
        account = self.state.accounts[int(arg)]
        return {"channel": key, "stats": views.user_stats(account, self.state), "timestamp": now_ms(),
                "type": "subscribed/user_stats"}

    # ---- fan-out -----------------------------------------------------------------------------------------

    def _emit(self, key: str, payload) -> None:
        subscribers = self.channels.get(key)
        if not subscribers:
            return
        text = payload if isinstance(payload, str) else dumps(payload)
        for conn in subscribers:
            conn.send(text)

    def publish(self, events: Events):
        """Turns one transaction's (or flow tick's) changes into update frames for every channel."""
        for market_id in events.book_markets:
            self._publish_book(market_id)
        if events.fills:
            by_market: Dict[int, List] = {}
            for fill in events.fills:
                by_market.setdefault(fill.market_id, []).append(fill)
            for market_id, fills in by_market.items():
                key = f"trade:{market_id}"
                if key in self.channels:
                    market = self.state.markets[market_id]
                    self._emit(key, {"channel": key, "liquidation_trades": [], "nonce": market.book_nonce,
                                     "trades": [views.trade_view(fill, market) for fill in fills],
                                     "type": "update/trade"})
        for account_index, orders in events.orders.items():
            key = f"account_all_orders:{account_index}"
            if key in self.channels:
                grouped = views.group_by_market(
                    [views.order_view(order, self.state.markets[order.market_id]) for order in orders.values()],
                    lambda order: order["market_index"])
                self._emit(key, {"channel": key, "orders": grouped, "type": "update/account_all_orders"})
        if events.fills or events.positions or events.fundings:
            self._publish_accounts(events)
        if events.stats_markets:
            for market_id in events.stats_markets:
                key = f"market_stats:{market_id}"
                if key in self.channels:
                    self._emit(key, self._stats_frame(key, str(market_id), [market_id], "update/market_stats"))
            if "market_stats:all" in self.channels:
                self._emit("market_stats:all", self._stats_frame("market_stats:all", "all", events.stats_markets,
                                                                 "update/market_stats"))

    def _publish_book(self, market_id: int):
        market = self.state.markets[market_id]
        asks, bids = self.engine.books[market_id].take_changes()
        if not asks and not bids:
            return
        begin = market.book_nonce
        market.book_nonce += len(asks) + len(bids)
        market.book_offset += 1
        market.last_updated_us = now_us()
        key = f"order_book:{market_id}"
        if key not in self.channels or self.faults.take_book_skip(market_id):
            return
        body = {"code": 0, "asks": views.levels_view(market, asks), "bids": views.levels_view(market, bids),
                "offset": market.book_offset, "nonce": market.book_nonce,
                "last_updated_at": market.last_updated_us, "begin_nonce": begin}
        self._emit(key, {"channel": key, "last_updated_at": market.last_updated_us, "offset": market.book_offset,
                         "order_book": body, "timestamp": now_ms(), "type": "update/order_book"})

    def _publish_accounts(self, events: Events):
        fills_by_account: Dict[int, List] = {}
        for fill in events.fills:
            fills_by_account.setdefault(fill.ask.account_index, []).append(fill)
            fills_by_account.setdefault(fill.bid.account_index, []).append(fill)
        accounts = set(fills_by_account) | set(events.positions) | set(events.fundings)
        for account_index in accounts:
            keys = {name: f"{name}:{account_index}" for name in PRIVATE_CHANNELS if name != "account_all_orders"}
            live = {name for name, key in keys.items() if key in self.channels}
            if not live:
                continue
            account = self.state.accounts[account_index]
            fills = fills_by_account.get(account_index, [])
            trades = views.group_by_market([views.trade_view(fill, self.state.markets[fill.market_id])
                                            for fill in fills], lambda trade: trade["market_id"])
            positions = {}
            if live & {"account_all", "account_all_positions"}:
                positions = {str(mid): views.position_view(account, account.positions[mid], self.state)
                             for mid in events.positions.get(account_index, ())}
            if trades and "account_all_trades" in live:
                self._emit(keys["account_all_trades"], {"type": "update/account_all_trades",
                                                        "channel": keys["account_all_trades"], "trades": trades})
            if positions and "account_all_positions" in live:
                self._emit(keys["account_all_positions"], {
                    "type": "update/account_all_positions", "channel": keys["account_all_positions"],
                    "positions": positions, "shares": [], "last_funding_round": None, "last_funding_discount": None})
            if "account_all_assets" in live:
                self._emit(keys["account_all_assets"], {
                    "assets": {str(C.USDC_ASSET_ID): views.usdc_asset_view(account)},
                    "channel": keys["account_all_assets"], "timestamp": now_ms(), "type": "update/account_all_assets"})
            if "user_stats" in live:
                self._emit(keys["user_stats"], {"channel": keys["user_stats"],
                                                "stats": views.user_stats(account, self.state), "timestamp": now_ms(),
                                                "type": "update/user_stats"})
            if "account_all" in live:
                fundings = views.group_by_market([views.funding_view(payment, self.state)
                                                  for payment in events.fundings.get(account_index, [])],
                                                 lambda payment: payment["market_id"])
                self._emit(keys["account_all"], {"account": account_index, "channel": keys["account_all"],
                                                 "funding_histories": fundings, "positions": positions,
                                                 "shares": [], "trades": trades, "type": "update/account_all"})


def _json_list(value) -> list:
    """sendtxbatch carries tx_types / tx_infos as JSON-encoded list strings."""
    if isinstance(value, list):
        return value
    try:
        decoded = json.loads(value)
    except (TypeError, ValueError):
        raise LighterError(C.INVALID_PARAM, detail="tx_types/tx_infos must be JSON lists")
    if not isinstance(decoded, list):
        raise LighterError(C.INVALID_PARAM, detail="tx_types/tx_infos must be JSON lists")
    return decoded
