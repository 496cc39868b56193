# Importing the connector registers its candles feed with Hummingbot's CandlesFactory, in place of upstream's.
from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_candles  # noqa: F401
