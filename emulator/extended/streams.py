"""WebSocket streams under /stream.extended.exchange/v1: the URL selects the stream, no subscribe message.

Envelope {type?, data, ts, seq}; seq counts per connection from 1. Trade and funding frames carry no type.
The server pings every `ping_interval` seconds and drops connections that do not answer.

Without a market in the URL a public stream carries every market (the x10 SDK's "/orderbooks/<market?>", likewise
publicTrades and funding; /prices/mark and /prices/index the same way [inferred]). [inferred] On such a connection seq
still counts the connection's frames, across all markets (a third-party client of the shared book stream reports the
numbers interleaved across markets; the docs we could read do not say), and the book stream opens with a SNAPSHOT of
every market, in turn."""
import asyncio
import json
from typing import List, Optional

from aiohttp import WSCloseCode, web

from emulator.extended.app_keys import FAULTS, PING_INTERVAL, STATE, STREAM_PREFIX
from emulator.extended.errors import UNAUTHORIZED
from emulator.extended.fmt import dstr, now_ms
from emulator.extended.hub import CLOSE, Subscriber
from emulator.extended.responses import http_error

MARKET_NOT_FOUND = {"status": "ERROR", "error": {"code": 1001, "message": "Market not found."}}


def price_message(kind: str, market, ts: int) -> tuple:
    if kind == "mark":
        return "MP", {"m": market.name, "p": dstr(market.mark_price), "ts": 0}
    return "IP", {"m": market.name, "p": dstr(market.index_price), "ts": ts}


async def _write_loop(ws: web.WebSocketResponse, sub: Subscriber, faults):
    seq = 0
    while not ws.closed:
        item = await sub.queue.get()
        if item is CLOSE or sub.overflow:
            await ws.close(code=WSCloseCode.GOING_AWAY)
            return
        msg_type, data, gap = item
        seq += 2 if gap else 1
        envelope = {"type": msg_type, "data": data} if msg_type else {"data": data}
        envelope["ts"] = now_ms()
        envelope["seq"] = seq
        if faults.stream_latency:
            await asyncio.sleep(faults.stream_latency)
        await ws.send_str(json.dumps(envelope))


async def _serve(request: web.Request, sub: Subscriber, initial: List[tuple]) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=request.app[PING_INTERVAL])
    await ws.prepare(request)
    hub = request.app[STATE].hub
    # snapshot and registration happen in one step, so no update can fall between them
    for item in initial:
        sub.push(item)
    hub.subscribe(sub)
    writer = asyncio.create_task(_write_loop(ws, sub, request.app[FAULTS]))
    try:
        async for _ in ws:
            continue  # clients send nothing meaningful; reading keeps ping/pong and close handling going
    finally:
        hub.unsubscribe(sub)
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
    return ws


async def _market_error(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_str(json.dumps(MARKET_NOT_FOUND))
    await ws.close()
    return ws


def _market_or_none(request: web.Request) -> tuple:
    """(known, market name or None for the all-markets stream)."""
    name = request.match_info.get("market")
    return (name is None or name in request.app[STATE].markets), name


async def orderbooks(request: web.Request):
    known, name = _market_or_none(request)
    if not known:
        return await _market_error(request)
    state = request.app[STATE]
    depth = 1 if request.query.get("depth") == "1" else None
    names = [name] if name else list(state.markets)
    initial = [("SNAPSHOT", state.book_stream_snapshot(n, depth), False) for n in names]
    return await _serve(request, Subscriber("orderbooks", name, depth=depth), initial)


async def public_trades(request: web.Request):
    known, name = _market_or_none(request)
    if not known:
        return await _market_error(request)
    return await _serve(request, Subscriber("publicTrades", name), [])


async def funding(request: web.Request):
    known, name = _market_or_none(request)
    if not known:
        return await _market_error(request)
    state = request.app[STATE]
    ts = now_ms()
    initial = [(None, {"m": m.name, "T": ts, "f": dstr(m.funding_rate)}, False)
               for m in state.markets.values() if name is None or m.name == name]
    return await _serve(request, Subscriber("funding", name), initial)


def _prices(kind: str):
    async def handler(request: web.Request):
        known, name = _market_or_none(request)
        if not known:
            return await _market_error(request)
        state = request.app[STATE]
        ts = now_ms()
        initial = [(*price_message(kind, m, ts), False) for m in state.markets.values() if name in (None, m.name)]
        return await _serve(request, Subscriber(f"prices/{kind}", name), initial)
    return handler


def _api_key(request: web.Request) -> Optional[str]:
    key = request.headers.get("X-Api-Key")
    if key:
        return key
    # a live client authenticated with ?X-API-KEY=... as well
    return next((v for k, v in request.query.items() if k.lower() == "x-api-key"), None)


async def account(request: web.Request):
    state = request.app[STATE]
    acct = state.accounts_by_key.get(_api_key(request) or "")
    if acct is None or acct.synthetic:
        return http_error(*UNAUTHORIZED)
    orders = [o.to_json() for o in state.account_open_orders(acct.account_id)]
    initial = [("ORDER", {"isSnapshot": True, "orders": orders}, False),
               ("BALANCE", {"isSnapshot": True, "balance": state.balance_json(acct)}, False),
               ("POSITION", {"isSnapshot": True, "positions": state.positions_json(acct)}, False)]
    return await _serve(request, Subscriber("account", account_id=acct.account_id), initial)


def add_routes(app: web.Application):
    p = STREAM_PREFIX
    for suffix, handler in (("orderbooks", orderbooks), ("publicTrades", public_trades), ("funding", funding),
                            ("prices/mark", _prices("mark")), ("prices/index", _prices("index"))):
        app.router.add_get(f"{p}/{suffix}", handler)
        app.router.add_get(f"{p}/{suffix}/{{market}}", handler)
    app.router.add_get(f"{p}/account", account)
