"""extended_perpetual through Hummingbot's own client paths: the keyless build (start-up trading-pair lookup, paper
trading), the `connect` prompts, the "replace your existing keys?" question and the key check that follows `connect`."""
import contextlib
import os
import unittest
from decimal import Decimal
from unittest.mock import patch

from emulator.extended import ExtendedEmulator
from hummingbot.client.config.client_config_map import ClientConfigMap
from hummingbot.client.config.config_crypt import ETHKeyFileSecretManger
from hummingbot.client.config.config_helpers import ClientConfigAdapter
from hummingbot.client.config.security import Security
from hummingbot.client.settings import AllConnectorSettings
from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_utils as utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import ExtendedPerpetualDerivative
from hummingbot.connector.perpetual_trading import PerpetualTrading
from hummingbot.core.connector_manager import ConnectorManager
from hummingbot.user.user_balances import UserBalances
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_test_helpers import (
    API_KEY,
    STARK_PRIVATE_KEY,
    STARK_PUBLIC_KEY,
    VAULT,
    IsolatedConnections,
)
from test.hummingbot.connector.derivative.hummingbot_client_support import (
    CLEAR_AND_TYPE,
    ScriptedClient,
    fetch_trading_pairs,
    paper_trade_settings,
    started_by_clock,
    stored_keys,
)

DOMAINS = (CONSTANTS.DEFAULT_DOMAIN, CONSTANTS.TESTNET_DOMAIN)
PAIR = "BTC-USD"


def new_config(domain: str) -> ClientConfigAdapter:
    return ClientConfigAdapter(AllConnectorSettings.get_connector_settings()[domain].config_keys.__class__
                               .model_construct())


def user_config(domain: str, api_key: str = API_KEY, private_key: str = STARK_PRIVATE_KEY,
                public_key: str = STARK_PUBLIC_KEY, vault=VAULT) -> ClientConfigAdapter:
    config = new_config(domain)
    for suffix, value in (("api_secret", api_key), ("stark_private_key", private_key),
                          ("stark_public_key", public_key), ("vault", str(vault))):
        setattr(config, f"{domain}_{suffix}", value)
    return config


class EmulatorTestCase(IsolatedConnections, unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.ex = ExtendedEmulator(port=0, rng_seed=11, hourly_funding=False)
        await self.ex.start()
        self.addAsyncCleanup(self.ex.stop)
        env = patch.dict(os.environ, {CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url,
                                      CONSTANTS.WSS_URL_ENV_VAR: self.ex.stream_url})
        env.start()
        self.addCleanup(env.stop)


class KeylessBuildTest(unittest.IsolatedAsyncioTestCase):
    """Hummingbot builds a connector without trading (start-up trading-pair lookup, paper trading, price sources) with
    `non_trading_connector_instance_with_default_configuration`, which passes every unset or false setting as ""."""

    async def test_every_domain_builds_without_keys(self):
        for domain in DOMAINS:
            connector = (AllConnectorSettings.get_connector_settings()[domain]
                         .non_trading_connector_instance_with_default_configuration(trading_pairs=[PAIR]))
            self.assertIsInstance(connector, ExtendedPerpetualDerivative)
            self.assertEqual(domain, connector.name)

    async def test_every_domain_builds_from_stored_keys_with_the_api_key(self):
        for domain in DOMAINS:
            with stored_keys(user_config(domain)):
                connector = (AllConnectorSettings.get_connector_settings()[domain]
                             .non_trading_connector_instance_with_default_configuration(trading_pairs=[PAIR]))
            self.assertEqual(domain, connector.name)
            self.assertEqual(API_KEY, connector.authenticator.stream_headers()[CONSTANTS.API_KEY_HEADER])


class StartUpTradingPairsTest(EmulatorTestCase):
    async def test_pairs_are_fetched_without_error_with_and_without_keys(self):
        for domain in DOMAINS:
            for keys in (None, user_config(domain)):
                with stored_keys(keys) if keys else contextlib.nullcontext():
                    with self.assertNoLogs(level="ERROR"):
                        pairs = await fetch_trading_pairs(domain)
                self.assertIn(PAIR, pairs[domain])


class PaperTradeTest(EmulatorTestCase):
    """`extended_perpetual_paper_trade` (listed in conf_client.yml's paper_trade_exchanges) as Hummingbot builds it:
    its PaperTradeExchange reads Extended's order book and simulates fills as spot trades."""

    async def test_paper_trade_fills_from_the_order_book_as_a_spot_trade_without_positions(self):
        name = f"{CONSTANTS.DEFAULT_DOMAIN}_paper_trade"
        with paper_trade_settings(CONSTANTS.DEFAULT_DOMAIN) as client_config:
            # Hummingbot's default paper balances hold no USD, Extended's quote asset.
            client_config.paper_trade.paper_trade_account_balance = {"USD": 100000}
            manager = ConnectorManager(client_config)
            market = manager.create_connector(name, [PAIR])
            self.addCleanup(manager.remove_connector, name)
        async with started_by_clock(market) as clock:
            self.assertTrue(market.ready)
            best_ask = market.get_price(PAIR, True)
            amount = Decimal("0.001")
            self.assertGreaterEqual(market.order_books[PAIR].get_volume_for_price(True, best_ask).result_volume,
                                    amount)
            market.buy(PAIR, amount)
            clock.backtest_til(clock.current_timestamp + market.TRADE_EXECUTION_DELAY + 1)

        # A buy swaps the quote for the base asset: no position, leverage, margin or funding.
        self.assertEqual(amount, market.get_balance("BTC"))
        self.assertAlmostEqual(Decimal("100000") - amount * best_ask, market.get_balance("USD"), places=6)
        self.assertNotIsInstance(market, PerpetualTrading)
        for perpetual_api in ("set_leverage", "set_position_mode", "account_positions", "get_funding_info"):
            self.assertFalse(hasattr(market, perpetual_api), perpetual_api)


class ConnectPromptTest(unittest.IsolatedAsyncioTestCase):
    """The prompts as `connect` shows them (CreateCommand.prompt_for_model_config / prompt_a_config)."""

    async def test_connect_walkthrough(self):
        for domain in DOMAINS:
            config = new_config(domain)
            # The dead man's switch prompt comes pre-filled with its default; Enter keeps it.
            client = ScriptedClient(API_KEY, STARK_PRIVATE_KEY, STARK_PUBLIC_KEY, str(VAULT), "")
            await client.prompt_for_model_config(config)
            self.assertEqual(["", "", "", "", "60"], client.app.prefills)
            self.assertEqual([], client.notices)
            self.assertEqual(f"Enter your {'Extended testnet' if 'testnet' in domain else 'Extended'} API key >>> ",
                             client.app.prompts[0])
            self.assertEqual(API_KEY, getattr(config, f"{domain}_api_secret").get_secret_value())
            self.assertEqual(VAULT, getattr(config, f"{domain}_vault"))
            self.assertEqual(60, getattr(config, f"{domain}_dead_man_switch_seconds"))

    async def test_every_refusal_is_one_sentence_without_the_validation_library_prefix(self):
        refused = {"api_secret": "short key", "stark_private_key": "7c" * 31, "stark_public_key": "0xzz",
                   "vault": "-3", "dead_man_switch_seconds": "-5"}
        for domain in DOMAINS:
            for suffix, bad in refused.items():
                config = new_config(domain)
                client = ScriptedClient(bad, "", leave_after_refusal=True)
                await client.prompt_a_config(config, f"{domain}_{suffix}")
                self.assertEqual(1, len(client.notices), suffix)
                notice = client.notices[0]
                self.assertTrue(notice.startswith("The ") and notice.endswith("."), notice)
                self.assertNotIn(bad, notice)

    async def test_a_refused_value_is_asked_again(self):
        config = new_config(CONSTANTS.DEFAULT_DOMAIN)
        client = ScriptedClient("0", CLEAR_AND_TYPE(str(VAULT)))
        await client.prompt_a_config(config, "extended_perpetual_vault")
        self.assertEqual(["The vault number must be a positive whole number (Extended shows it with the API key)."],
                         client.notices)
        self.assertEqual(VAULT, config.extended_perpetual_vault)

    async def test_dead_man_switch_answers(self):
        for typed, seconds in ((CLEAR_AND_TYPE(""), 60), (CLEAR_AND_TYPE("0"), 0), (CLEAR_AND_TYPE("30"), 30)):
            config = new_config(CONSTANTS.DEFAULT_DOMAIN)
            client = ScriptedClient(typed)
            await client.prompt_a_config(config, "extended_perpetual_dead_man_switch_seconds")
            self.assertEqual([], client.notices)
            self.assertEqual(seconds, config.extended_perpetual_dead_man_switch_seconds)
        config = new_config(CONSTANTS.DEFAULT_DOMAIN)
        client = ScriptedClient(CLEAR_AND_TYPE("soon"), CLEAR_AND_TYPE("20"))
        await client.prompt_a_config(config, "extended_perpetual_dead_man_switch_seconds")
        self.assertEqual(["The dead man's switch must be 0 (off) or a whole number of seconds from 10 to 86400, or "
                          "empty for 60."], client.notices)
        self.assertEqual(20, config.extended_perpetual_dead_man_switch_seconds)


class ReplaceKeysQuestionTest(unittest.IsolatedAsyncioTestCase):
    async def test_second_connect_never_shows_the_api_key(self):
        for domain in DOMAINS:
            client = ScriptedClient("no")
            with stored_keys(user_config(domain)):
                await client.connect_exchange(domain)
            # Hummingbot shows the first stored field whose name contains "api_key"; Extended has none.
            self.assertEqual([f"Would you like to replace your existing {domain} key (Yes/No)? >>> "],
                             client.app.prompts)
            self.assertNotIn(API_KEY, "".join(client.app.prompts + client.notices))


class FormerFieldNameTest(EmulatorTestCase):
    """Connector files written while the API key was stored as <domain>_api_key still load and connect."""

    def former_file(self, domain: str, api_key: str, private_key: str, public_key: str, vault: int) -> dict:
        secrets_manager = ETHKeyFileSecretManger("a password")
        return {"connector": domain,
                f"{domain}_api_key": secrets_manager.encrypt_secret_value("api_key", api_key),
                f"{domain}_stark_private_key": secrets_manager.encrypt_secret_value("key", private_key),
                f"{domain}_stark_public_key": public_key, f"{domain}_vault": vault}

    async def test_a_former_file_loads_and_its_keys_connect(self):
        account = self.ex.create_account(collateral=Decimal("1234.5"))
        domain = CONSTANTS.DEFAULT_DOMAIN
        loaded = utils.ExtendedPerpetualConfigMap.model_validate(self.former_file(
            domain, account.api_key, account.stark_private_key, account.stark_public_key, account.vault))
        config = ClientConfigAdapter(loaded)
        with patch.object(Security, "secrets_manager", ETHKeyFileSecretManger("a password")):
            config.decrypt_all_secure_data()  # as Hummingbot's login does with each connector file
        client = ScriptedClient()
        client.client_config_map = ClientConfigAdapter(ClientConfigMap())
        self.addCleanup(UserBalances.instance()._markets.pop, domain, None)
        with stored_keys(config):
            self.assertEqual(account.api_key, Security.api_keys(domain)[f"{domain}_api_secret"])
            error = await client.validate_n_connect_connector(domain)
        self.assertIsNone(error)
        self.assertEqual(Decimal("1234.5"), UserBalances.instance().all_balances(domain)["USD"])


if __name__ == "__main__":
    unittest.main()
