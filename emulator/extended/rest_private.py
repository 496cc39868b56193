"""Private REST endpoints under /api/v1/user (the middleware has already resolved X-Api-Key to an account)."""
import json
from decimal import Decimal, InvalidOperation

from aiohttp import web

from emulator.extended.app_keys import ENGINE, STATE
from emulator.extended.errors import NOT_FOUND, ExchangeError
from emulator.extended.fmt import dstr, now_ms
from emulator.extended.responses import http_error, ok, paginate, query_int, query_list
from emulator.extended.validation import validate_order

ACCOUNT = "extended_account"


def _filtered(items, request: web.Request, **fields):
    """Keep items whose attributes match the repeated query params named in `fields` (param -> attribute)."""
    for param, attr in fields.items():
        wanted = query_list(request, param)
        if wanted:
            items = [i for i in items if getattr(i, attr) in wanted]
    return items


async def _json_body(request: web.Request):
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ExchangeError(1133)


async def account_info(request: web.Request) -> web.Response:
    account = request[ACCOUNT]
    return ok({"accountId": account.account_id, "description": account.description, "accountIndex": 0,
               "status": "ACTIVE", "l2Key": account.stark_public_key, "l2Vault": str(account.vault),
               "bridgeStarknetAddress": None, "apiKeys": [], "accountIndexForKeyGeneration": 0})


async def balance(request: web.Request) -> web.Response:
    state = request.app[STATE]
    account = request[ACCOUNT]
    if not account.collateral and not state.open_positions(account.account_id):
        # the exchange answers 404 while the account holds no collateral
        return http_error(NOT_FOUND[0], "Balance not found")
    return ok(state.balance_json(account))


async def positions(request: web.Request) -> web.Response:
    state = request.app[STATE]
    account = request[ACCOUNT]
    rows = state.positions_json(account)
    for param, field in (("market", "market"), ("side", "side")):
        wanted = query_list(request, param)
        if wanted:
            rows = [r for r in rows if r[field] in wanted]
    return ok(rows)


async def open_orders(request: web.Request) -> web.Response:
    state = request.app[STATE]
    orders = state.account_open_orders(request[ACCOUNT].account_id)
    orders = _filtered(sorted(orders, key=lambda o: o.id, reverse=True), request, market="market", type="type",
                       side="side")
    return ok([o.to_json() for o in orders])


async def orders_history(request: web.Request) -> web.Response:
    state = request.app[STATE]
    orders = [o for o in state.account_orders(request[ACCOUNT].account_id) if not o.is_open]
    orders = _filtered(sorted(orders, key=lambda o: o.id, reverse=True), request, market="market", type="type",
                       side="side")
    page, pagination = paginate(request, orders, key=lambda o: o.id)
    return ok([o.to_json() for o in page], pagination)


async def order_by_id(request: web.Request) -> web.Response:
    order = request.app[STATE].orders.get(int(request.match_info["order_id"]))
    if order is None or order.account_id != request[ACCOUNT].account_id:
        return http_error(NOT_FOUND[0], "Order not found")
    return ok(order.to_json())


async def order_by_external_id(request: web.Request) -> web.Response:
    order = request.app[STATE].order_by_external_id(request[ACCOUNT].account_id, request.match_info["external_id"])
    if order is None:
        return http_error(NOT_FOUND[0], "Order not found")
    return ok([order.to_json()])


async def trades(request: web.Request) -> web.Response:
    fills = list(reversed(request.app[STATE].account_fills(request[ACCOUNT].account_id)))
    fills = _filtered(fills, request, market="market", side="side", type="trade_type")
    page, pagination = paginate(request, fills, key=lambda f: f.id)
    return ok([f.to_json() for f in page], pagination)


async def fees(request: web.Request) -> web.Response:
    state = request.app[STATE]
    account = request[ACCOUNT]
    wanted = query_list(request, "market")
    return ok([{"market": name, "makerFeeRate": dstr(account.maker_fee), "takerFeeRate": dstr(account.taker_fee),
                "builderFeeRate": dstr(account.builder_fee)}
               for name in state.markets if not wanted or name in wanted])


async def leverage(request: web.Request) -> web.Response:
    state = request.app[STATE]
    account = request[ACCOUNT]
    wanted = query_list(request, "market")
    return ok([{"market": name, "leverage": dstr(account.leverage_for(name))}
               for name in state.markets if not wanted or name in wanted])


async def update_leverage(request: web.Request) -> web.Response:
    state = request.app[STATE]
    account = request[ACCOUNT]
    body = await _json_body(request)
    market = state.market(str(body.get("market")) if isinstance(body, dict) else "")
    try:
        value = Decimal(str(body.get("leverage")))
    except InvalidOperation:
        raise ExchangeError(1053)
    if not value.is_finite() or value.as_tuple().exponent < -2:
        raise ExchangeError(1053)
    if value < 1:
        raise ExchangeError(1049)
    if value > market.spec.max_leverage:
        raise ExchangeError(1050)
    position = state.position(account.account_id, market.name)
    if position is not None:
        value_now = abs(position.size) * market.mark_price
        allowed = [upper for upper, factor in market.spec.risk_factors if 1 / factor >= value]
        if not allowed or value_now > allowed[-1]:
            raise ExchangeError(10501)
    previous = account.leverage_for(market.name)
    account.leverage[market.name] = value
    if state.margin(account).available_for_trade < 0:
        account.leverage[market.name] = previous
        raise ExchangeError(1052)
    if position is not None:
        state.emit_position(account.account_id, market.name)
    state.emit_balance(account.account_id)
    state.flush()
    return ok({})


async def funding_payments(request: web.Request) -> web.Response:
    state = request.app[STATE]
    start = query_int(request, "startTime") or 0
    end = query_int(request, "endTime") or now_ms()
    rows = [p for p in reversed(state.funding_payments.get(request[ACCOUNT].account_id, []))
            if start <= p.paid_time <= end]
    rows = _filtered(rows, request, market="market", side="side")
    page, pagination = paginate(request, rows, key=lambda p: p.id)
    return ok([p.to_json() for p in page], pagination)


async def place_order(request: web.Request) -> web.Response:
    state = request.app[STATE]
    account = request[ACCOUNT]
    order, replaces = validate_order(state, account, await _json_body(request), now_ms())
    request.app[ENGINE].place(account, order, replaces)
    return ok({"id": str(order.id), "externalId": order.external_id})


async def cancel_order(request: web.Request) -> web.Response:
    order = request.app[STATE].orders.get(int(request.match_info["order_id"]))
    if order is None or order.account_id != request[ACCOUNT].account_id:
        return http_error(NOT_FOUND[0], "Order not found")
    request.app[ENGINE].cancel(order)
    return ok(with_data=False)


async def cancel_by_external_id(request: web.Request) -> web.Response:
    external_id = request.query.get("externalId")
    order = request.app[STATE].order_by_external_id(request[ACCOUNT].account_id, external_id) if external_id else None
    if order is None:
        return http_error(NOT_FOUND[0], "Order not found")
    request.app[ENGINE].cancel(order)
    return ok(with_data=False)


async def mass_cancel(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ExchangeError(1133)
    orders = state.account_open_orders(request[ACCOUNT].account_id)
    markets = body.get("markets") or []
    if markets:
        orders = [o for o in orders if o.market in markets]
    if not body.get("cancelAll"):
        try:
            ids = {int(i) for i in body.get("orderIds") or []}
        except (TypeError, ValueError):
            raise ExchangeError(1133)
        external_ids = {str(i) for i in body.get("externalOrderIds") or []}
        if ids or external_ids:
            orders = [o for o in orders if o.id in ids or o.external_id in external_ids]
        elif not markets:
            orders = []
    request.app[ENGINE].cancel_many(orders)
    return ok({})


async def dead_man_switch(request: web.Request) -> web.Response:
    """Mass auto-cancel (docs): `countdownTime` (required, seconds, "should be non-negative") restarts the account's
    countdown, 0 removes it; when it runs out, every open order of the account is cancelled (server clock). The docs
    give no other bound, so none is enforced. The refusal's code and wording are inferred."""
    account = request[ACCOUNT]
    countdown = query_int(request, "countdownTime")
    if countdown is None or countdown < 0:
        raise ExchangeError(1133, "countdownTime should be non-negative")
    account.dead_man_deadline_ms = now_ms() + countdown * 1000 if countdown > 0 else None
    # The docs list {"status": "OK"}; ccxt notes the endpoint answers with an empty body, which this follows.
    return web.Response(text="")


def add_routes(app: web.Application, prefix: str):
    user = f"{prefix}/user"
    app.router.add_get(f"{user}/account/info", account_info)
    app.router.add_get(f"{user}/balance", balance)
    app.router.add_get(f"{user}/positions", positions)
    app.router.add_get(f"{user}/orders", open_orders)
    app.router.add_get(f"{user}/orders/history", orders_history)
    app.router.add_get(f"{user}/orders/external/{{external_id}}", order_by_external_id)
    app.router.add_get(f"{user}/orders/{{order_id:\\d+}}", order_by_id)
    app.router.add_get(f"{user}/trades", trades)
    app.router.add_get(f"{user}/fees", fees)
    app.router.add_get(f"{user}/leverage", leverage)
    app.router.add_patch(f"{user}/leverage", update_leverage)
    app.router.add_get(f"{user}/funding/history", funding_payments)
    app.router.add_post(f"{user}/order", place_order)
    app.router.add_delete(f"{user}/order", cancel_by_external_id)
    app.router.add_post(f"{user}/order/massCancel", mass_cancel)
    app.router.add_delete(f"{user}/order/{{order_id:\\d+}}", cancel_order)
    app.router.add_post(f"{user}/deadmanswitch", dead_man_switch)
