"""What happened, from both sides: Hummingbot's own trade records (its sqlite database) and the exchange's truth."""
import json
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from emulator.lighter import LighterEmulator
from emulator.lighter.margin import summarize as margin_summary

MICRO = Decimal("0.000001")
# Hummingbot's SqliteDecimal(6) columns hold integers scaled by 10^6.
DB_SCALE = Decimal(10) ** 6


@dataclass
class ExchangeTruth:
    bids_placed: int
    asks_placed: int
    orders_placed: int
    open_orders: int
    orders_cancelled: int
    fills: int
    position: Decimal
    fees: Decimal
    funding: Decimal
    pnl: Decimal
    mark_price: Decimal


def exchange_truth(ex: LighterEmulator, account_index: int, market_id: int, initial_collateral: Decimal
                   ) -> ExchangeTruth:
    account = ex.state.accounts[account_index]
    market = ex.state.markets[market_id]
    inactive = list(account.inactive_orders)
    fees = 0
    for fill in account.fills:
        if fill.ask.account_index == account_index:
            fees += fill.maker_fee_paid if fill.is_maker_ask else fill.taker_fee_paid
        if fill.bid.account_index == account_index:
            fees += fill.taker_fee_paid if fill.is_maker_ask else fill.maker_fee_paid
    margin = margin_summary(account, ex.state.markets)
    position = account.positions.get(market_id)
    funding = sum(payment.change for payment in account.fundings)
    orders = list(account.active_orders.values()) + inactive
    return ExchangeTruth(
        bids_placed=sum(1 for order in orders if not order.is_ask),
        asks_placed=sum(1 for order in orders if order.is_ask),
        orders_placed=len(orders),
        open_orders=len(account.active_orders),
        orders_cancelled=sum(1 for order in inactive if order.status.startswith("canceled")),
        fills=len(account.fills),
        position=Decimal(position.size if position else 0).scaleb(-market.spec.size_decimals),
        fees=fees * MICRO,
        funding=funding * MICRO,
        pnl=(account.collateral + margin.unrealized) * MICRO - initial_collateral,
        mark_price=Decimal(market.index_price).scaleb(-market.spec.price_decimals),
    )


@dataclass
class Summary:
    orders: int
    fills: int
    volume: Decimal
    fees: Decimal
    funding: Decimal
    position: Decimal
    pnl: Decimal
    truth: ExchangeTruth
    mismatches: list

    @property
    def consistent(self) -> bool:
        return not self.mismatches

    def text(self) -> str:
        lines = [
            "",
            "Summary (Hummingbot's trade records; checked against the exchange)",
            f"  orders created     {self.orders}",
            f"  fills              {self.fills}   (exchange: {self.truth.fills})",
            f"  volume             {self.volume:.2f} USDC",
            f"  fees paid          {self.fees:.6f} USDC   (exchange: {self.truth.fees:.6f})",
            f"  funding            {self.funding:+.6f} USDC   (exchange: {self.truth.funding:+.6f})",
            f"  final position     {self.position:+.4f}   (exchange: {self.truth.position:+.4f})",
            f"  PnL at mark {self.truth.mark_price}  {self.pnl:+.4f} USDC   (exchange: {self.truth.pnl:+.4f})",
        ]
        verdict = "yes" if self.consistent else "NO - " + "; ".join(self.mismatches)
        lines.append(f"  consistent with the exchange: {verdict}")
        return "\n".join(lines)


def summarize(db_path: Path, ex: LighterEmulator, account_index: int, market_id: int, initial_collateral: Decimal
              ) -> Summary:
    truth = exchange_truth(ex, account_index, market_id, initial_collateral)
    with sqlite3.connect(str(db_path)) as db:
        orders = db.execute('SELECT COUNT(*) FROM "Order"').fetchone()[0]
        fills = db.execute("SELECT trade_type, price, amount, trade_fee FROM TradeFill").fetchall()
        funding_rows = db.execute("SELECT amount FROM FundingPayment").fetchall()
    position = cash = volume = fees = Decimal(0)
    for trade_type, price, amount, trade_fee in fills:
        price, amount = Decimal(price) / DB_SCALE, Decimal(amount) / DB_SCALE
        signed = amount if trade_type == "BUY" else -amount
        position += signed
        cash -= signed * price
        volume += amount * price
        fee = json.loads(trade_fee)
        fees += sum(Decimal(flat["amount"]) for flat in fee.get("flat_fees", []))
        fees += Decimal(fee.get("percent", "0")) * amount * price
    funding = sum((Decimal(str(row[0])) for row in funding_rows), Decimal(0))
    pnl = cash + position * truth.mark_price - fees + funding
    mismatches = []
    if len(fills) != truth.fills:
        mismatches.append(f"{len(fills)} fills recorded, {truth.fills} on the exchange")
    if abs(fees - truth.fees) > MICRO * len(fills):
        mismatches.append(f"fees {fees} recorded, {truth.fees} charged")
    if position != truth.position:
        mismatches.append(f"position {position} recorded, {truth.position} on the exchange")
    if abs(pnl - truth.pnl) > Decimal("0.01"):
        mismatches.append(f"PnL {pnl:.4f} from the records, {truth.pnl:.4f} on the exchange")
    return Summary(orders=orders, fills=len(fills), volume=volume, fees=fees, funding=funding, position=position,
                   pnl=pnl, truth=truth, mismatches=mismatches)
