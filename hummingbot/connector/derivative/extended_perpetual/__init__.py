# Importing the connector registers its candles feed with Hummingbot's CandlesFactory.
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_candles  # noqa: F401
