"""Public REST endpoints under /api/v1/info."""
from aiohttp import web

from emulator.extended import funding_history
from emulator.extended.app_keys import STATE
from emulator.extended.candles import INTERVALS_MS, MAX_CANDLES, build_candles
from emulator.extended.errors import ExchangeError
from emulator.extended.fmt import dstr, now_ms
from emulator.extended.responses import ok, query_int, query_list

PUBLIC_TRADES_LIMIT = 50
CANDLE_SOURCES = {"trades": "trade_ticks", "mark-prices": "mark_ticks", "index-prices": "index_ticks"}


async def markets(request: web.Request) -> web.Response:
    state = request.app[STATE]
    wanted = query_list(request, "market")
    names = [n for n in state.markets if not wanted or n in wanted]
    return ok([state.market_json(n) for n in names])


async def market_stats(request: web.Request) -> web.Response:
    state = request.app[STATE]
    name = request.match_info["market"]
    state.market(name)
    return ok(state.market_json(name)["marketStats"])


async def orderbook(request: web.Request) -> web.Response:
    state = request.app[STATE]
    name = request.match_info["market"]
    state.market(name)
    levels = state.book_levels(name)
    return ok({"market": name,
               "bid": [{"qty": dstr(q), "price": dstr(p)} for p, q in levels["bid"]],
               "ask": [{"qty": dstr(q), "price": dstr(p)} for p, q in levels["ask"]]})


async def trades(request: web.Request) -> web.Response:
    state = request.app[STATE]
    name = request.match_info["market"]
    state.market(name)
    recent = list(state.public_trades[name])[-PUBLIC_TRADES_LIMIT:]
    return ok([t.to_json() for t in reversed(recent)])


async def candles(request: web.Request) -> web.Response:
    state = request.app[STATE]
    market = state.market(request.match_info["market"])
    source = CANDLE_SOURCES.get(request.match_info["candle_type"])
    interval = INTERVALS_MS.get(request.query.get("interval", ""))
    if source is None or interval is None:
        raise ExchangeError(1005, "Not supported interval.")
    limit = min(query_int(request, "limit") or 100, MAX_CANDLES)
    end = query_int(request, "endTime") or now_ms()
    return ok(build_candles(getattr(market, source), interval, limit, end, market.spec.initial_price,
                            with_volume=source == "trade_ticks"))


def add_routes(app: web.Application, prefix: str):
    app.router.add_get(f"{prefix}/info/markets", markets)
    app.router.add_get(f"{prefix}/info/markets/{{market}}/stats", market_stats)
    app.router.add_get(f"{prefix}/info/markets/{{market}}/orderbook", orderbook)
    app.router.add_get(f"{prefix}/info/markets/{{market}}/trades", trades)
    app.router.add_get(f"{prefix}/info/candles/{{market}}/{{candle_type}}", candles)
    app.router.add_get(f"{prefix}/info/{{market}}/funding", funding_history.funding_history)
