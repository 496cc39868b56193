"""JSON shapes of Lighter objects (orders, trades, positions, accounts, markets) as the venue sends them.

Field names and JSON types follow the captured payloads; fields the lighter-sdk models require but the
captures lack are added so `lighter.models.*.from_dict` accepts every response.
"""
from typing import Dict, List, Optional

from emulator.lighter import constants as C
from emulator.lighter.margin import avg_entry_price, liquidation_price, mark_price, summarize, unrealized_pnl
from emulator.lighter.markets import USDC_DECIMALS, fmt_fixed
from emulator.lighter.state import Account, ApiKey, ExchangeState, Fill, FundingPayment, MarketState, Order, Position


def usdc(value: int) -> str:
    return fmt_fixed(value, USDC_DECIMALS)


def market_summary(market: MarketState) -> dict:
    """The /orderBooks entry (also the head of /orderBookDetails)."""
    spec = market.spec
    return {
        "symbol": spec.symbol,
        "market_id": spec.market_id,
        "market_type": "perp",
        "base_asset_id": 0,
        "quote_asset_id": 0,
        "status": spec.status,
        "taker_fee": f"{spec.taker_fee * 100:.4f}",
        "is_taker_fee_enabled": True,
        "maker_fee": f"{spec.maker_fee * 100:.4f}",
        "is_maker_fee_enabled": True,
        "liquidation_fee": "1.0000",
        "min_base_amount": spec.size_str(spec.min_base_int),
        "min_quote_amount": usdc(spec.min_quote_micro),
        "order_quote_limit": "281474976.710655",
        "supported_size_decimals": spec.size_decimals,
        "supported_price_decimals": spec.price_decimals,
        "supported_quote_decimals": USDC_DECIMALS,
    }


def _daily_price_change(market: MarketState) -> float:
    first = market.recent_fills[0].price if market.recent_fills else market.last_trade_price
    return (market.last_trade_price - first) * 100 / first if first else 0.0


def _price_float(market: MarketState, price: int) -> float:
    return price / (10 ** market.spec.price_decimals)


def market_details(market: MarketState) -> dict:
    spec = market.spec
    prices = [fill.price for fill in market.recent_fills] or [market.last_trade_price]
    detail = market_summary(market)
    detail.update({
        "size_decimals": spec.size_decimals,
        "price_decimals": spec.price_decimals,
        "quote_multiplier": 1,
        "default_initial_margin_fraction": spec.default_initial_margin_fraction,
        "min_initial_margin_fraction": spec.min_initial_margin_fraction,
        "maintenance_margin_fraction": spec.maintenance_margin_fraction,
        "closeout_margin_fraction": spec.closeout_margin_fraction,
        "last_trade_price": _price_float(market, market.last_trade_price),
        "daily_trades_count": market.daily_trades,
        "daily_base_token_volume": market.daily_base_volume / (10 ** spec.size_decimals),
        "daily_quote_token_volume": market.daily_quote_volume / 10 ** USDC_DECIMALS,
        "daily_price_low": _price_float(market, min(prices)),
        "daily_price_high": _price_float(market, max(prices)),
        "daily_price_change": _daily_price_change(market),
        "open_interest": market.open_interest / (10 ** spec.size_decimals),
        "daily_chart": {},
        "market_config": {
            "market_margin_mode": 0,
            "insurance_fund_account_index": C.INSURANCE_FUND_ACCOUNT_INDEX,
            "liquidation_mode": 0,
            "force_reduce_only": False,
            "trading_hours": "",
            "funding_fee_discounts_enabled": False,
            "hidden": False,
            "rfq_enabled": False,
        },
        "strategy_index": 0,
        "funding_clamp_small": "0.0500",
        "funding_clamp_big": "4.0000",
        "base_interest_rate": "0.0100",
    })
    return detail


def market_stats(market: MarketState, mid_price: Optional[int] = None) -> dict:
    """market_stats entry; `mid_price` is the book's mid in ticks (the mark price when the book is one-sided)."""
    spec = market.spec
    prices = [fill.price for fill in market.recent_fills] or [market.last_trade_price]
    mark = mark_price(market)
    rate = f"{spec.funding_rate:.4f}"
    return {
        "symbol": spec.symbol,
        "market_id": spec.market_id,
        "index_price": spec.price_str(market.index_price),
        "mark_price": spec.price_str(mark),
        "mid_price": spec.price_str(mark if mid_price is None else mid_price),
        "open_interest": usdc(market.open_interest * mark * spec.quote_multiplier),
        "open_interest_limit": "72057594037927936.000000",
        "funding_clamp_small": "0.0500",
        "funding_clamp_big": "4.0000",
        "last_trade_price": spec.price_str(market.last_trade_price),
        "current_funding_rate": rate,
        "funding_rate": rate,
        "funding_timestamp": market.last_funding_ms,
        "base_interest_rate": "0.0100",
        "daily_base_token_volume": market.daily_base_volume / (10 ** spec.size_decimals),
        "daily_quote_token_volume": market.daily_quote_volume / 10 ** USDC_DECIMALS,
        "daily_price_low": _price_float(market, min(prices)),
        "daily_price_high": _price_float(market, max(prices)),
        "daily_price_change": _daily_price_change(market),
    }


def order_view(order: Order, market: MarketState, snapshot: bool = False) -> dict:
    """Order object; snapshots (REST lists, WS subscribed frames) carry the integrator fields as "" """
    spec = market.spec
    integrator = "" if snapshot else "0"
    created_s = order.created_us // 1_000_000
    return {
        "order_index": order.order_index,
        "client_order_index": order.client_order_index,
        "order_id": str(order.order_index),
        "client_order_id": str(order.client_order_index),
        "market_index": order.market_id,
        "owner_account_index": order.account_index,
        "initial_base_amount": spec.size_str(order.initial_base),
        "price": spec.price_str(order.price),
        "nonce": order.nonce,
        "remaining_base_amount": spec.size_str(order.remaining_base),
        "is_ask": order.is_ask,
        "base_size": order.remaining_base,
        "base_price": order.price,
        "filled_base_amount": spec.size_str(order.filled_base),
        "filled_quote_amount": usdc(order.filled_quote),
        "side": "",
        "type": C.ORDER_TYPE_NAMES[order.order_type],
        "time_in_force": C.TIF_NAMES[order.time_in_force],
        "reduce_only": order.reduce_only,
        "trigger_price": spec.price_str(order.trigger_price),
        "order_expiry": order.order_expiry,
        "status": order.status,
        "trigger_status": "na",
        "trigger_time": 0,
        "parent_order_index": 0,
        "parent_order_id": "0",
        "to_trigger_order_id_0": "0",
        "to_trigger_order_id_1": "0",
        "to_cancel_order_id_0": "0",
        "integrator_fee_collector_index": integrator,
        "integrator_taker_fee": integrator,
        "integrator_maker_fee": integrator,
        "order_flags": 0,
        "block_height": order.block_height,
        "timestamp": order.updated_us // 1_000_000,
        "created_at": created_s,
        "updated_at": order.updated_us // 1_000_000,
        "transaction_time": order.updated_us,
    }


def simple_order_view(order: Order, market: MarketState) -> dict:
    spec = market.spec
    return {
        "order_index": order.order_index,
        "order_id": str(order.order_index),
        "owner_account_index": order.account_index,
        "initial_base_amount": spec.size_str(order.initial_base),
        "remaining_base_amount": spec.size_str(order.remaining_base),
        "price": spec.price_str(order.price),
        "order_expiry": order.order_expiry,
        "transaction_time": order.created_us,
    }


def trade_view(fill: Fill, market: MarketState) -> dict:
    spec = market.spec
    ask, bid = fill.ask, fill.bid
    return {
        "trade_id": fill.trade_id,
        "trade_id_str": str(fill.trade_id),
        "tx_hash": fill.tx_hash,
        "type": "trade",
        "market_id": fill.market_id,
        "size": spec.size_str(fill.size),
        "price": spec.price_str(fill.price),
        "usd_amount": usdc(fill.usd_amount),
        "ask_id": ask.order_index,
        "ask_id_str": str(ask.order_index),
        "bid_id": bid.order_index,
        "bid_id_str": str(bid.order_index),
        "ask_client_id": ask.client_order_index,
        "ask_client_id_str": str(ask.client_order_index),
        "bid_client_id": bid.client_order_index,
        "bid_client_id_str": str(bid.client_order_index),
        "ask_account_id": ask.account_index,
        "bid_account_id": bid.account_index,
        "is_maker_ask": fill.is_maker_ask,
        "block_height": fill.block_height,
        "timestamp": fill.timestamp_ms,
        "taker_fee": fill.taker_fee_ticks,
        "taker_position_size_before": spec.size_str(fill.taker_position_before),
        "taker_entry_quote_before": usdc(fill.taker_entry_quote_before),
        "taker_initial_margin_fraction_before": fill.taker_imf_before,
        "taker_position_sign_changed": fill.taker_sign_changed,
        "maker_fee": fill.maker_fee_ticks,
        "maker_position_size_before": spec.size_str(fill.maker_position_before),
        "maker_entry_quote_before": usdc(fill.maker_entry_quote_before),
        "maker_initial_margin_fraction_before": fill.maker_imf_before,
        "maker_position_sign_changed": fill.maker_sign_changed,
        "transaction_time": fill.transaction_time_us,
        "ask_account_pnl": usdc(fill.ask_realized_pnl),
        "bid_account_pnl": usdc(fill.bid_realized_pnl),
        "integrator_maker_fee": 0,
        "integrator_maker_fee_collector_index": 0,
        "integrator_taker_fee": 0,
        "integrator_taker_fee_collector_index": 0,
        "taker_allocated_margin_usdc_before": 0,
        "taker_allocated_margin_usdc_after": 0,
        "maker_allocated_margin_usdc_before": 0,
        "maker_allocated_margin_usdc_after": 0,
    }


def position_view(account: Account, pos: Position, state: ExchangeState) -> dict:
    market = state.markets[pos.market_id]
    spec = market.spec
    liq = liquidation_price(account, state.markets, pos.market_id)
    open_orders = sum(1 for order in account.active_orders.values() if order.market_id == pos.market_id)
    return {
        "market_id": pos.market_id,
        "symbol": spec.symbol,
        "initial_margin_fraction": f"{pos.initial_margin_fraction / 100:.2f}",
        "open_order_count": open_orders,
        "pending_order_count": 0,
        "position_tied_order_count": 0,
        "sign": -1 if pos.size < 0 else 1,
        "position": spec.size_str(abs(pos.size)),
        "avg_entry_price": spec.price_str(avg_entry_price(pos, market)),
        "position_value": usdc(abs(pos.size) * mark_price(market) * spec.quote_multiplier),
        "unrealized_pnl": usdc(unrealized_pnl(pos, market)),
        "realized_pnl": usdc(pos.realized_pnl),
        "liquidation_price": "0" if liq is None else repr(liq),
        "total_funding_paid_out": usdc(pos.funding_paid_out),
        "margin_mode": pos.margin_mode,
        "allocated_margin": usdc(0),
        "total_discount": usdc(0),
    }


def usdc_asset_view(account: Account) -> dict:
    return {
        "symbol": "USDC",
        "asset_id": C.USDC_ASSET_ID,
        "balance": usdc(account.spot_usdc),
        "locked_balance": usdc(0),
        "margin_mode": "disabled",
        "margin_balance": usdc(account.collateral),
    }


def account_header(account: Account, state: ExchangeState) -> dict:
    """The /accountsByL1Address sub_account shape (lighter.models.Account)."""
    summary = summarize(account, state.markets)
    return {
        "code": 0,
        "account_type": 0,
        "account_trading_mode": 0,
        "index": account.index,
        "l1_address": account.l1_address,
        "cancel_all_time": account.cancel_all_time,
        "total_order_count": account.total_order_count,
        "total_isolated_order_count": 0,
        "pending_order_count": 0,
        "available_balance": usdc(summary.available),
        "status": 1,
        "collateral": usdc(account.collateral),
        "transaction_time": account.created_at * 1000,
    }


def account_view(account: Account, state: ExchangeState) -> dict:
    summary = summarize(account, state.markets)
    view = account_header(account, state)
    view.update({
        "account_index": account.index,
        "name": "",
        "description": "",
        "can_invite": True,
        "referral_points_percentage": "",
        "can_rfq": False,
        "can_rfq_market_ids": [],
        "created_at": account.created_at,
        "metadata": {"color": ""},
        "positions": [position_view(account, pos, state) for pos in account.positions.values()],
        "assets": [usdc_asset_view(account)],
        "total_asset_value": usdc(summary.total_value),
        "cross_asset_value": usdc(summary.total_value),
        "cross_initial_margin_requirement": usdc(summary.initial_requirement),
        "cross_maintenance_margin_requirement": usdc(summary.maintenance_requirement),
        "pool_info": {
            "status": 0, "operator_fee": "0", "min_operator_share_rate": "0", "total_shares": 0,
            "operator_shares": 0, "annual_percentage_yield": 0, "daily_returns": [], "share_prices": [],
            "sharpe_ratio": 0, "strategies": [],
        },
        "shares": [],
        "pending_unlocks": [],
        "approved_integrators": [],
    })
    return view


def user_stats(account: Account, state: ExchangeState) -> dict:
    summary = summarize(account, state.markets)
    total = summary.total_value
    leverage = summary.position_value / total if total > 0 else 0
    usage = summary.initial_requirement * 100 / total if total > 0 else 0
    stats = {
        "collateral": usdc(account.collateral),
        "portfolio_value": usdc(total),
        "leverage": f"{leverage:.2f}",
        "available_balance": usdc(summary.available),
        "margin_usage": f"{usage:.2f}",
        "buying_power": "0",
    }
    return dict(stats, account_trading_mode=0, cross_stats=dict(stats), total_stats=dict(stats))


def funding_view(payment: FundingPayment, state: ExchangeState) -> dict:
    spec = state.markets[payment.market_id].spec
    return {
        "timestamp": payment.timestamp_s,
        "market_id": payment.market_id,
        "funding_id": payment.funding_id,
        "change": usdc(payment.change),
        "rate": payment.rate,
        "position_size": spec.size_str(payment.position_size),
        "position_side": payment.position_side,
        "discount": usdc(0),
    }


def levels_view(market: MarketState, levels: List[tuple]) -> List[Dict[str, str]]:
    spec = market.spec
    return [{"price": spec.price_str(price), "size": spec.size_str(size)} for price, size in levels]


def group_by_market(items: List, market_of) -> Dict[str, List]:
    grouped: Dict[str, List] = {}
    for item in items:
        grouped.setdefault(str(market_of(item)), []).append(item)
    return grouped


def api_key_view(account_index: int, key: ApiKey) -> dict:
    return {
        "account_index": account_index,
        "api_key_index": key.api_key_index,
        "nonce": key.next_nonce,
        "public_key": key.public_key,
        "transaction_time": key.transaction_time,
    }
