"""Hummingbot's own client code paths that build or configure a connector, driven without its terminal UI.

- `ScriptedClient` runs the real `connect` and config-prompt methods (`ConnectCommand.connect_exchange`,
  `CreateCommand.prompt_for_model_config` / `prompt_a_config`) with an input box that behaves like Hummingbot's:
  each prompt is pre-filled with the text Hummingbot chooses, and what the user types is added to that text.
- `stored_keys` makes Hummingbot believe a connector's keys are stored (its decrypted-keys table and the file check).
- `paper_trade_settings` declares `<connector>_paper_trade` the way Hummingbot's start-up does.
- `fetch_trading_pairs` runs Hummingbot's start-up trading-pair lookup (`TradingPairFetcher`) for one connector.
- `started_by_clock` runs a market under Hummingbot's clock, which starts it as a strategy run does.
"""
import asyncio
import contextlib
import time
from typing import AsyncIterator, Callable, Dict, Iterator, List, Union
from unittest.mock import patch

from hummingbot.client.command.connect_command import ConnectCommand
from hummingbot.client.command.create_command import CreateCommand
from hummingbot.client.config.client_config_map import ClientConfigMap
from hummingbot.client.config.config_helpers import ClientConfigAdapter
from hummingbot.client.config.security import Security
from hummingbot.client.settings import AllConnectorSettings
from hummingbot.connector.connector_base import ConnectorBase
from hummingbot.core.clock import Clock, ClockMode
from hummingbot.core.utils.trading_pair_fetcher import TradingPairFetcher

# What the user does in the input box: a string is typed after the pre-filled text; a callable gets the pre-filled
# text and returns what is submitted (e.g. `CLEAR_AND_TYPE("x")`).
Keystrokes = Union[str, Callable[[str], str]]


def CLEAR_AND_TYPE(text: str) -> Callable[[str], str]:  # noqa: N802 (reads as a keystroke in the scripts)
    return lambda prefilled: text


class _InputBox:
    def __init__(self, keystrokes: List[Keystrokes]):
        self._keystrokes = list(keystrokes)
        self._text = ""
        self.prompts: List[str] = []
        self.prefills: List[str] = []
        self.to_stop_config = False
        self.hide_input = False

    def set_text(self, text: str):
        self._text = text
        self.prefills.append(text)

    def clear_input(self):
        self._text = ""

    def change_prompt(self, prompt: str, is_password: bool = False):
        pass

    async def prompt(self, prompt: str, is_password: bool = False) -> str:
        self.prompts.append(prompt)
        if not self._keystrokes:
            raise AssertionError(f"Unexpected prompt: {prompt}")
        keystrokes = self._keystrokes.pop(0)
        submitted = keystrokes(self._text) if callable(keystrokes) else self._text + keystrokes
        self._text = ""
        return submitted


class ScriptedClient(ConnectCommand, CreateCommand):
    """The part of HummingbotApplication that `connect` and the config prompts use."""

    def __init__(self, *keystrokes: Keystrokes, leave_after_refusal: bool = False):
        self.app = _InputBox(list(keystrokes))
        self.notices: List[str] = []
        self.placeholder_mode = False
        self._leave_after_refusal = leave_after_refusal

    def notify(self, msg: str):
        self.notices.append(msg)
        if self._leave_after_refusal:
            # The user leaves (Ctrl+X) at the repeated prompt, which Hummingbot still shows once.
            self.app.to_stop_config = True


@contextlib.contextmanager
def stored_keys(connector_config: ClientConfigAdapter) -> Iterator[None]:
    """As after Hummingbot decrypted conf/connectors/<name>.yml at login, without writing the file."""
    name = connector_config.connector
    done = asyncio.Event()
    done.set()
    settings = AllConnectorSettings.get_connector_settings()
    previous = settings[name]
    with patch.object(Security, "_decryption_done", done), \
            patch.dict(Security._secure_configs, {name: connector_config}), \
            patch.object(Security, "connector_config_file_exists", side_effect=lambda connector: connector == name):
        AllConnectorSettings.update_connector_config_keys(connector_config.hb_config)
        try:
            yield
        finally:
            settings[name] = previous


@contextlib.contextmanager
def paper_trade_settings(name: str) -> Iterator[ClientConfigAdapter]:
    """`paper_trade_exchanges: [<name>]` in conf_client.yml, declared as Hummingbot's start-up does (runner.py)."""
    client_config = ClientConfigAdapter(ClientConfigMap())
    client_config.paper_trade.paper_trade_exchanges = [name]
    previous_names = AllConnectorSettings.paper_trade_connectors_names
    AllConnectorSettings.initialize_paper_trade_settings([name])
    try:
        yield client_config
    finally:
        AllConnectorSettings.get_connector_settings().pop(f"{name}_paper_trade", None)
        AllConnectorSettings.paper_trade_connectors_names = previous_names


async def fetch_trading_pairs(name: str, timeout: float = 15) -> Dict[str, List[str]]:
    """Hummingbot's start-up lookup for one connector: it builds the connector through
    `non_trading_connector_instance_with_default_configuration` and asks it for its trading pairs."""
    settings = AllConnectorSettings.get_connector_settings()
    done = asyncio.Event()
    done.set()  # Hummingbot looks the pairs up once the stored keys (if any) are decrypted
    with patch.object(TradingPairFetcher, "_all_connector_settings", return_value={name: settings[name]}), \
            patch.object(Security, "_decryption_done", done):
        client_config = ClientConfigAdapter(ClientConfigMap())
        client_config.fetch_pairs_from_all_exchanges = True
        fetcher = TradingPairFetcher(client_config)
        deadline = time.monotonic() + timeout
        while not (fetcher.ready and name in fetcher.trading_pairs) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)  # anything logged right after the answer is caught too
    return fetcher.trading_pairs


@contextlib.asynccontextmanager
async def started_by_clock(market: ConnectorBase, timeout: float = 15) -> AsyncIterator[Clock]:
    """The clock starts the market; the market's network check then starts its networking (for a paper-trade market:
    the order book). Simulated time advances only with `clock.backtest_til`."""
    now = time.time()
    clock = Clock(ClockMode.BACKTEST, tick_size=1, start_time=now, end_time=now + 3600)
    clock.add_iterator(market)
    try:
        with clock:
            clock.backtest_til(now + 1)
            deadline = time.monotonic() + timeout
            while not market.ready and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            yield clock
    finally:
        await market.stop_network()
