"""lighter_perpetual through Hummingbot's own client paths: the keyless build (start-up trading-pair lookup, paper
trading), the `connect` prompts and the "replace your existing keys?" question."""
import os
import unittest
from decimal import Decimal
from unittest.mock import patch

from emulator.lighter import LighterEmulator
from hummingbot.client.config.config_helpers import ClientConfigAdapter
from hummingbot.client.settings import AllConnectorSettings
from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_utils as utils,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import LighterPerpetualDerivative
from hummingbot.connector.perpetual_trading import PerpetualTrading
from hummingbot.core.connector_manager import ConnectorManager
from test.hummingbot.connector.derivative.hummingbot_client_support import (
    CLEAR_AND_TYPE,
    ScriptedClient,
    fetch_trading_pairs,
    paper_trade_settings,
    started_by_clock,
    stored_keys,
)
from test.hummingbot.connector.derivative.lighter_perpetual.test_lighter_perpetual_e2e import fresh_shared_session

DOMAINS = (CONSTANTS.DEFAULT_DOMAIN, CONSTANTS.TESTNET_DOMAIN)
PAIR = "ETH-USDC"
PRIVATE_KEY = "ab" * 40
YES_NO_ERROR = "Answer yes or no (y, n, true and false work too); an empty answer means no."
WINDOW_ERROR = ("The dead man's switch must be 0 (off) or a whole number of seconds from 300 (Lighter's shortest "
                "scheduled cancel-all) to 1296000 (15 days), or empty for 300.")


def new_config(domain: str) -> ClientConfigAdapter:
    return ClientConfigAdapter(AllConnectorSettings.get_connector_settings()[domain].config_keys.__class__
                               .model_construct())


def user_config(domain: str, cancel_all_on_stop: str = "no", tier: str = "Premium") -> ClientConfigAdapter:
    config = new_config(domain)
    for suffix, value in (("api_private_key", PRIVATE_KEY), ("api_key_index", "4"), ("account_index", "7"),
                          ("account_tier", tier), ("cancel_all_on_stop", cancel_all_on_stop)):
        setattr(config, f"{domain}_{suffix}", value)
    return config


class KeylessBuildTest(unittest.IsolatedAsyncioTestCase):
    """Hummingbot builds a connector without trading (start-up trading-pair lookup, paper trading, price sources) with
    `non_trading_connector_instance_with_default_configuration`, which passes every unset or false setting as ""."""

    async def test_every_domain_builds_without_keys(self):
        for domain in DOMAINS:
            connector = (AllConnectorSettings.get_connector_settings()[domain]
                         .non_trading_connector_instance_with_default_configuration(trading_pairs=[PAIR]))
            self.assertIsInstance(connector, LighterPerpetualDerivative)
            self.assertEqual(domain, connector.name)
            self.assertIsNone(connector.authenticator)
            self.assertFalse(connector._cancel_all_on_stop)
            self.assertEqual(CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS, connector._dead_man_switch_seconds)

    async def test_every_domain_builds_from_stored_keys(self):
        for domain in DOMAINS:
            for answer, cancel_all in (("no", False), ("yes", True)):
                with stored_keys(user_config(domain, cancel_all_on_stop=answer)):
                    connector = (AllConnectorSettings.get_connector_settings()[domain]
                                 .non_trading_connector_instance_with_default_configuration(trading_pairs=[PAIR]))
                self.assertEqual(domain, connector.name)
                self.assertIs(cancel_all, connector._cancel_all_on_stop)
                self.assertEqual(repr(CONSTANTS.rate_limits("Premium")), repr(connector.rate_limits_rules))


class StartUpTradingPairsTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await fresh_shared_session()
        self.ex = LighterEmulator(port=0)
        await self.ex.start()
        self.addAsyncCleanup(self.ex.stop)
        env = patch.dict(os.environ, {CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url,
                                      CONSTANTS.WSS_URL_ENV_VAR: self.ex.ws_url})
        env.start()
        self.addCleanup(env.stop)

    async def assert_pairs_fetched_without_error(self, domain: str):
        with self.assertNoLogs(level="ERROR"):
            pairs = await fetch_trading_pairs(domain)
        self.assertIn(PAIR, pairs[domain])

    async def test_pairs_are_fetched_without_keys(self):
        for domain in DOMAINS:
            await self.assert_pairs_fetched_without_error(domain)

    async def test_pairs_are_fetched_with_stored_keys(self):
        for domain in DOMAINS:
            with stored_keys(user_config(domain)):
                await self.assert_pairs_fetched_without_error(domain)


class PaperTradeTest(unittest.IsolatedAsyncioTestCase):
    """`lighter_perpetual_paper_trade` (listed in conf_client.yml's paper_trade_exchanges) as Hummingbot builds it: its
    PaperTradeExchange reads Lighter's order book and simulates fills as spot trades."""

    async def asyncSetUp(self):
        await fresh_shared_session()
        self.ex = LighterEmulator(port=0)
        await self.ex.start()
        self.addAsyncCleanup(self.ex.stop)
        env = patch.dict(os.environ, {CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url,
                                      CONSTANTS.WSS_URL_ENV_VAR: self.ex.ws_url})
        env.start()
        self.addCleanup(env.stop)
        maker = self.ex.create_account(collateral=Decimal("1000000"))
        self.ex.place_order(maker, 0, is_ask=False, size=Decimal("2"), price=Decimal("2500"))
        self.ex.place_order(maker, 0, is_ask=True, size=Decimal("2"), price=Decimal("2505"))

    async def test_paper_trade_fills_from_the_order_book_as_a_spot_trade_without_positions(self):
        with paper_trade_settings(CONSTANTS.DEFAULT_DOMAIN) as client_config:
            client_config.paper_trade.paper_trade_account_balance = {"USDC": 10000}
            manager = ConnectorManager(client_config)
            market = manager.create_connector(f"{CONSTANTS.DEFAULT_DOMAIN}_paper_trade", [PAIR])
            self.addCleanup(manager.remove_connector, f"{CONSTANTS.DEFAULT_DOMAIN}_paper_trade")
        async with started_by_clock(market) as clock:
            self.assertTrue(market.ready)
            self.assertEqual(Decimal("2505"), market.get_price(PAIR, True))
            market.buy(PAIR, Decimal("0.1"))
            clock.backtest_til(clock.current_timestamp + market.TRADE_EXECUTION_DELAY + 1)

        # A buy swaps the quote for the base asset: no position, leverage, margin or funding.
        self.assertEqual(Decimal("0.1"), market.get_balance("ETH"))
        self.assertAlmostEqual(Decimal("9749.5"), market.get_balance("USDC"), places=6)
        self.assertNotIsInstance(market, PerpetualTrading)
        for perpetual_api in ("set_leverage", "set_position_mode", "account_positions", "get_funding_info"):
            self.assertFalse(hasattr(market, perpetual_api), perpetual_api)


class ConnectPromptTest(unittest.IsolatedAsyncioTestCase):
    """The prompts as `connect` shows them (CreateCommand.prompt_for_model_config / prompt_a_config): Hummingbot
    pre-fills each with str(field default) and shows a validation error's "msg"."""

    async def test_connect_walkthrough_takes_the_pre_filled_defaults(self):
        for domain in DOMAINS:
            config = new_config(domain)
            client = ScriptedClient("0x" + PRIVATE_KEY, "4", "7", "", "", "", "")
            await client.prompt_for_model_config(config)
            self.assertEqual(["", "", "", "", "Standard", "", ""], client.app.prefills)
            self.assertEqual([], client.notices)
            self.assertEqual(4, getattr(config, f"{domain}_api_key_index"))
            self.assertEqual(7, getattr(config, f"{domain}_account_index"))
            self.assertEqual("", getattr(config, f"{domain}_l1_address"))
            self.assertEqual("Standard", getattr(config, f"{domain}_account_tier"))
            self.assertIs(False, getattr(config, f"{domain}_cancel_all_on_stop"))
            self.assertTrue(client.app.prompts[-2].startswith("Cancel every open order") and
                            "(yes/no, empty for no)" in client.app.prompts[-2])
            self.assertEqual(300, getattr(config, f"{domain}_dead_man_switch_seconds"))
            self.assertTrue(client.app.prompts[-1].startswith("Dead man's switch: Lighter cancels every open order") and
                            "0 turns it off, empty for 300" in client.app.prompts[-1])

    async def test_dead_man_switch_window_empty_is_300_and_0_is_off(self):
        for domain in DOMAINS:
            for typed, expected in (("", 300), ("0", 0), ("300", 300), (" 600 ", 600), ("1296000", 1296000)):
                config = new_config(domain)
                client = ScriptedClient(typed)
                await client.prompt_a_config(config, f"{domain}_dead_man_switch_seconds")
                self.assertEqual([""], client.app.prefills, typed)
                self.assertEqual([], client.notices, typed)
                self.assertEqual(expected, getattr(config, f"{domain}_dead_man_switch_seconds"), typed)

    async def test_a_window_lighter_would_refuse_is_explained_and_asked_again(self):
        for typed in ("60", "299", "1296001", "-5", "5m", "1.5"):
            config = new_config(CONSTANTS.DEFAULT_DOMAIN)
            client = ScriptedClient(typed, "")
            await client.prompt_a_config(config, "lighter_perpetual_dead_man_switch_seconds")
            self.assertEqual([WINDOW_ERROR], client.notices, typed)
            self.assertEqual(300, config.lighter_perpetual_dead_man_switch_seconds)

    async def test_cancel_all_on_stop_takes_every_yes_no_spelling(self):
        answers = {"yes": True, "y": True, "true": True, "Yes ": True, "TRUE": True,
                   "no": False, "n": False, "false": False, "False": False, "": False}
        for domain in DOMAINS:
            for typed, expected in answers.items():
                config = new_config(domain)
                client = ScriptedClient(typed)
                await client.prompt_a_config(config, f"{domain}_cancel_all_on_stop")
                self.assertEqual([""], client.app.prefills, typed)
                self.assertEqual([], client.notices, typed)
                self.assertIs(expected, getattr(config, f"{domain}_cancel_all_on_stop"), typed)

    async def test_a_wrong_yes_no_answer_is_explained_and_asked_again(self):
        config = new_config(CONSTANTS.DEFAULT_DOMAIN)
        client = ScriptedClient("maybe", "y")
        await client.prompt_a_config(config, "lighter_perpetual_cancel_all_on_stop")
        self.assertEqual([YES_NO_ERROR], client.notices)
        self.assertEqual(["", ""], client.app.prefills)
        self.assertIs(True, config.lighter_perpetual_cancel_all_on_stop)

    async def test_account_tier_keeps_clears_or_replaces_the_pre_filled_default(self):
        for domain in DOMAINS:
            for keystrokes, expected in (("", "Standard"), (CLEAR_AND_TYPE(""), "Standard"),
                                         (CLEAR_AND_TYPE("premium"), "Premium")):
                config = new_config(domain)
                client = ScriptedClient(keystrokes)
                await client.prompt_a_config(config, f"{domain}_account_tier")
                self.assertEqual(["Standard"], client.app.prefills)
                self.assertEqual([], client.notices)
                self.assertEqual(expected, getattr(config, f"{domain}_account_tier"))

    async def test_typing_after_the_pre_filled_tier_is_explained_and_asked_again(self):
        config = new_config(CONSTANTS.DEFAULT_DOMAIN)
        client = ScriptedClient("Plus", CLEAR_AND_TYPE("Plus"))
        await client.prompt_a_config(config, "lighter_perpetual_account_tier")
        self.assertEqual(["The account tier must be one of Standard, Premium, Plus, Builder, or empty for Standard."],
                         client.notices)
        self.assertEqual("Plus", config.lighter_perpetual_account_tier)

    async def test_every_refusal_is_one_sentence_without_the_validation_library_prefix(self):
        refused = {"api_private_key": "0x1234", "api_key_index": "255", "account_index": "-1",
                   "l1_address": "0x12", "account_tier": "Gold", "cancel_all_on_stop": "maybe",
                   "dead_man_switch_seconds": "59"}
        for domain in DOMAINS:
            for suffix, bad in refused.items():
                config = new_config(domain)
                client = ScriptedClient(CLEAR_AND_TYPE(bad), "", leave_after_refusal=True)
                await client.prompt_a_config(config, f"{domain}_{suffix}")
                self.assertEqual(1, len(client.notices), suffix)
                notice = client.notices[0]
                self.assertFalse(notice.startswith("Value error"), notice)
                self.assertTrue(notice.startswith(("The ", "Answer ")) and notice.endswith("."), notice)
                self.assertNotIn(bad, notice)


class ReplaceKeysQuestionTest(unittest.IsolatedAsyncioTestCase):
    async def test_second_connect_never_shows_the_private_key(self):
        for domain in DOMAINS:
            client = ScriptedClient("no")
            with stored_keys(user_config(domain)):
                await client.connect_exchange(domain)
            # Hummingbot shows the first stored field whose name contains "api_key": here the key index.
            self.assertEqual([f"Would you like to replace your existing {domain} API key 4 (Yes/No)? >>> "],
                             client.app.prompts)
            self.assertNotIn(PRIVATE_KEY, "".join(client.app.prompts + client.notices))


class StoredConfigTest(unittest.TestCase):
    def test_a_file_saved_before_empty_answers_existed_still_loads(self):
        loaded = utils.LighterPerpetualConfigMap.model_validate({
            "lighter_perpetual_api_private_key": PRIVATE_KEY, "lighter_perpetual_api_key_index": 2,
            "lighter_perpetual_account_index": 7, "lighter_perpetual_account_tier": "Standard",
            "lighter_perpetual_cancel_all_on_stop": False})
        self.assertIs(False, loaded.lighter_perpetual_cancel_all_on_stop)
        # Saved before the dead man's switch existed: it is on, with the default window.
        self.assertIsNone(loaded.lighter_perpetual_dead_man_switch_seconds)
        self.assertEqual(CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS, utils.validate_dead_man_switch_seconds(None))


if __name__ == "__main__":
    unittest.main()
