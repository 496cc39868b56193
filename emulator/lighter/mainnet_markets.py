"""Lighter's mainnet perpetual markets, by id, for runs with the venue's full market list (`mainnet_markets()`).

Source: the symbol -> market_id table of Lighter's /api/v1/orderBookDetails as public clients carry it (for example
BloomFiLabs/BloomTest server/src/config/cached-symbols.ts, generated 2025-12-16, which agrees on every shared
entry); the captures in test/fixtures are trimmed to one market. Ids and symbols are the venue's. Decimals, minimums
and prices are inferred except ETH's and BTC's (test/fixtures/lighter_01_orderBookDetails.txt, ccxt comments): every
other market gets one layout of the right kind for the emulator (sizes in tenths, prices with 5 decimals, a price
of 1), which is enough for a run that counts markets, requests and messages, not for prices.
"""
from decimal import Decimal
from typing import List

from emulator.lighter.markets import MarketSpec, default_markets

MAINNET_PERP_SYMBOLS = {
    0: "ETH", 1: "BTC", 2: "SOL", 3: "DOGE", 4: "1000PEPE", 5: "WIF", 6: "WLD", 7: "XRP", 8: "LINK", 9: "AVAX",
    10: "NEAR", 11: "DOT", 12: "TON", 13: "TAO", 14: "POL", 15: "TRUMP", 16: "SUI", 17: "1000SHIB", 18: "1000BONK",
    19: "1000FLOKI", 20: "BERA", 21: "FARTCOIN", 22: "AI16Z", 23: "POPCAT", 24: "HYPE", 25: "BNB", 26: "JUP",
    27: "AAVE", 28: "MKR", 29: "ENA", 30: "UNI", 31: "APT", 32: "SEI", 33: "KAITO", 34: "IP", 35: "LTC", 36: "CRV",
    37: "PENDLE", 38: "ONDO", 39: "ADA", 40: "S", 41: "VIRTUAL", 42: "SPX", 43: "TRX", 44: "SYRUP", 45: "PUMP",
    46: "LDO", 47: "PENGU", 48: "PAXG", 49: "EIGEN", 50: "ARB", 51: "RESOLV", 52: "GRASS", 53: "ZORA",
    54: "LAUNCHCOIN", 55: "OP", 56: "ZK", 57: "PROVE", 58: "BCH", 59: "HBAR", 60: "ZRO", 61: "GMX", 62: "DYDX",
    63: "MNT", 64: "ETHFI", 65: "AERO", 66: "USELESS", 67: "TIA", 68: "MORPHO", 69: "VVV", 70: "YZY", 71: "XPL",
    72: "WLFI", 73: "CRO", 74: "NMR", 75: "DOLO", 76: "LINEA", 77: "XMR", 78: "PYTH", 79: "SKY", 80: "MYX",
    81: "1000TOSHI", 82: "AVNT", 83: "ASTER", 84: "0G", 85: "STBL", 86: "APEX", 87: "FF", 88: "2Z", 89: "EDEN",
    90: "ZEC", 91: "MON", 92: "XAU", 93: "XAG", 94: "MEGA", 95: "MET", 96: "EURUSD", 97: "GBPUSD", 98: "USDJPY",
    99: "USDCHF", 100: "USDCAD", 101: "CC", 102: "ICP", 103: "FIL", 104: "STRK", 105: "USDKRW", 106: "AUDUSD",
    107: "NZDUSD", 108: "HOOD", 109: "COIN", 110: "NVDA", 111: "PLTR", 112: "TSLA", 113: "AAPL", 114: "AMZN",
    115: "MSFT", 116: "GOOGL", 117: "META", 118: "STABLE", 119: "XLM", 120: "LIT", 121: "CRCL", 122: "MSTR",
    123: "BMNR", 124: "FOGO", 125: "DUSK", 126: "RIVER", 127: "DASH", 128: "SPY", 129: "QQQ",
}
# Listed as inactive in the same tables (status "inactive" in orderBookDetails).
INACTIVE = {28}


def mainnet_markets() -> List[MarketSpec]:
    """Every market above: ETH and BTC as captured, the others with the inferred layout (see the module notes)."""
    captured = {spec.market_id: spec for spec in default_markets()}
    markets = []
    for market_id, symbol in MAINNET_PERP_SYMBOLS.items():
        spec = captured.get(market_id) or MarketSpec(
            market_id=market_id, symbol=symbol, size_decimals=1, price_decimals=5,
            min_base_amount=Decimal("10.0"), min_quote_amount=Decimal("10"), initial_price=Decimal("1.00000"))
        if market_id in INACTIVE:
            spec.status = "inactive"
        markets.append(spec)
    return markets
