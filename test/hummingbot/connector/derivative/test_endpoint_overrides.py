"""The REST/WebSocket URL overrides of both connectors: a loopback host is honoured; any other host only with
PERP_DEX_ALLOW_REMOTE_ENDPOINTS=1, and then a WARNING names it at every construction. Without the opt-in, mainnet and
testnet both refuse to build, in one sentence that Hummingbot's `connect` and engine show as it is, before anything
is sent."""
import logging
import unittest
from typing import Any, Dict
from unittest.mock import patch

from aioresponses import aioresponses

from hummingbot.client.config.client_config_map import ClientConfigMap
from hummingbot.client.config.config_helpers import ClientConfigAdapter
from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as EXTENDED,
    extended_perpetual_web_utils as extended_web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import ExtendedPerpetualDerivative
from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as LIGHTER,
    lighter_perpetual_web_utils as lighter_web_utils,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import LighterPerpetualDerivative
from hummingbot.core.connector_manager import ConnectorManager
from hummingbot.user.user_balances import UserBalances
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_test_helpers import (
    API_KEY,
    STARK_PRIVATE_KEY,
    STARK_PUBLIC_KEY,
    VAULT,
)

OPT_IN = "PERP_DEX_ALLOW_REMOTE_ENDPOINTS"
LOOPBACK_HOSTS = ("127.0.0.1", "127.8.9.10", "[::1]", "localhost", "LocalHost")
# The last three only look local: the host is what follows "@", and names are never resolved.
REMOTE_HOSTS = {"relay.example": "relay.example", "10.0.0.7": "10.0.0.7", "0.0.0.0": "0.0.0.0",
                "localhost.example": "localhost.example", "127.0.0.1.nip.io": "127.0.0.1.nip.io",
                "127.0.0.1@relay.example": "relay.example"}


class EndpointGuardTests:
    """Run for each connector by the subclasses below."""
    web_utils: Any
    constants: Any
    connector_class: type
    rest_path: str  # what the REST override ends with for the connector to use it as given
    keys: Dict[str, str]
    domains: tuple

    def setUp(self):
        super().setUp()
        self.records = []
        logger = logging.getLogger(self.web_utils.__name__)
        handler = logging.Handler(logging.DEBUG)
        handler.emit = self.records.append
        logger.addHandler(handler)
        previous_level = logger.level
        logger.setLevel(logging.INFO)
        self.addCleanup(logger.setLevel, previous_level)
        self.addCleanup(logger.removeHandler, handler)
        self.web_utils._logged_overrides.clear()
        self.addCleanup(self.web_utils._logged_overrides.clear)

    def overrides(self, host: str, **extra: str) -> Dict[str, str]:
        return {self.constants.REST_URL_ENV_VAR: f"https://{host}:8443{self.rest_path}",
                self.constants.WSS_URL_ENV_VAR: f"wss://{host}/stream", **extra}

    def build(self, domain: str):
        return self.connector_class(**self.keys, trading_pairs=[], domain=domain)

    def warnings(self):
        return [record.getMessage() for record in self.records if record.levelno == logging.WARNING]

    def assert_one_sentence_naming(self, host: str, message: str):
        self.assertIn(f" points at {host}, which is not this machine", message)
        self.assertIn(f"set {OPT_IN}=1", message)
        self.assertTrue(message.endswith("."), message)
        self.assertNotIn(". ", message)
        self.assertNotIn("\n", message)

    def test_hosts_of_this_machine_are_loopback_and_others_are_remote(self):
        for host in LOOPBACK_HOSTS:
            self.assertIsNone(self.web_utils._remote_host(f"http://{host}:9/x"), host)
            self.assertIsNone(self.web_utils._remote_host(f"ws://user:pw@{host}/stream"), host)
        for host, named in REMOTE_HOSTS.items():
            self.assertEqual(named, self.web_utils._remote_host(f"http://{host}:9/x"), host)
        # Without a scheme there is no host to trust: the whole value is named.
        self.assertEqual("127.0.0.1:9", self.web_utils._remote_host("127.0.0.1:9"))

    async def test_loopback_overrides_are_honoured_on_both_domains_without_a_warning(self):
        for host in LOOPBACK_HOSTS:
            for domain in self.domains:
                with self.subTest(host=host, domain=domain), patch.dict("os.environ", self.overrides(host)):
                    connector = self.build(domain)
                    self.assertEqual(domain, connector.name)
                    self.assertEqual(f"https://{host}:8443", self.web_utils.rest_base_url(domain).split("/api")[0])
                    self.assertEqual(f"wss://{host}/stream", self.ws_url(domain))
        self.assertEqual([], self.warnings())

    async def assert_refused_before_anything_is_sent(self, domain: str):
        client_config = ClientConfigAdapter(ClientConfigMap())
        env = self.overrides("user:secret-pw@relay.example")
        with patch.dict("os.environ", env), aioresponses() as wire:
            with self.assertRaises(ValueError) as built:
                self.build(domain)
            # Stored keys are named after the domain, e.g. lighter_perpetual_testnet_api_private_key.
            stored = {key.replace(self.constants.DEFAULT_DOMAIN, domain, 1): value for key, value in self.keys.items()}
            # `connect` shows the construction error as "Error: <message>"; a strategy start lists it per connector.
            shown = await UserBalances.instance().add_exchange(domain, client_config, **stored)
            # The headless engine's connector manager logs it and gives up.
            with self.assertRaises(ValueError) as managed:
                ConnectorManager(client_config).create_connector(domain, [], True, api_keys=stored)
            # A URL asked for later, e.g. by a reconnect, is refused the same way.
            for resolve in (self.web_utils.rest_base_url, self.ws_url):
                with self.assertRaises(ValueError):
                    resolve(domain)
            self.assertEqual({}, wire.requests)
        message = str(built.exception)
        self.assert_one_sentence_naming("relay.example", message)
        self.assertIn(self.constants.REST_URL_ENV_VAR, message)
        self.assertNotIn("secret-pw", message)
        self.assertEqual(message, shown)
        self.assertEqual(message, str(managed.exception))
        self.assertNotIn(domain, UserBalances.instance()._markets)
        self.assertEqual([], self.warnings())

    async def test_remote_override_refuses_mainnet_in_one_sentence_and_sends_nothing(self):
        await self.assert_refused_before_anything_is_sent(self.constants.DEFAULT_DOMAIN)

    async def test_remote_override_refuses_testnet_too(self):
        await self.assert_refused_before_anything_is_sent(self.constants.TESTNET_DOMAIN)

    async def test_a_remote_websocket_alone_is_refused(self):
        env = {self.constants.WSS_URL_ENV_VAR: "wss://relay.example/stream"}
        with patch.dict("os.environ", env), self.assertRaises(ValueError) as built:
            self.build(self.constants.DEFAULT_DOMAIN)
        self.assertTrue(str(built.exception).startswith(f"{self.constants.WSS_URL_ENV_VAR} points at relay.example"))

    async def test_only_the_exact_opt_in_value_allows_a_remote_host(self):
        for value in ("", "0", "yes", "true"):
            env = self.overrides("relay.example", **{OPT_IN: value})
            with self.subTest(value=value), patch.dict("os.environ", env), self.assertRaises(ValueError):
                self.build(self.constants.DEFAULT_DOMAIN)

    async def test_opt_in_honours_a_remote_host_with_a_warning_naming_it_at_every_construction(self):
        env = self.overrides("user:secret-pw@relay.example", **{OPT_IN: "1"})
        with patch.dict("os.environ", env):
            for domain in self.domains:
                self.build(domain)
                self.assertEqual("https://user:secret-pw@relay.example:8443",
                                 self.web_utils.rest_base_url(domain).split("/api")[0])
                self.assertEqual("wss://user:secret-pw@relay.example/stream", self.ws_url(domain))
        warnings = self.warnings()
        self.assertEqual(2 * len(self.domains), len(warnings))
        for warning, env_var in zip(warnings, [self.constants.REST_URL_ENV_VAR, self.constants.WSS_URL_ENV_VAR] * 2):
            self.assertTrue(warning.startswith(f"{env_var} sends your "), warning)
            self.assertIn(" to relay.example (", warning)
            self.assertNotIn("secret-pw", warning)


class LighterEndpointGuardTests(EndpointGuardTests, unittest.IsolatedAsyncioTestCase):
    web_utils = lighter_web_utils
    constants = LIGHTER
    connector_class = LighterPerpetualDerivative
    rest_path = "/api/v1"  # the documented form; the connector drops it
    keys = {"lighter_perpetual_api_private_key": "ab" * 40, "lighter_perpetual_api_key_index": "4",
            "lighter_perpetual_account_index": "7"}
    domains = (LIGHTER.DEFAULT_DOMAIN, LIGHTER.TESTNET_DOMAIN)

    def ws_url(self, domain: str) -> str:
        return lighter_web_utils.wss_url(domain)


class ExtendedEndpointGuardTests(EndpointGuardTests, unittest.IsolatedAsyncioTestCase):
    web_utils = extended_web_utils
    constants = EXTENDED
    connector_class = ExtendedPerpetualDerivative
    rest_path = "/api/v1"
    keys = {"extended_perpetual_api_secret": API_KEY, "extended_perpetual_stark_private_key": STARK_PRIVATE_KEY,
            "extended_perpetual_stark_public_key": STARK_PUBLIC_KEY, "extended_perpetual_vault": str(VAULT)}
    domains = (EXTENDED.DEFAULT_DOMAIN, EXTENDED.TESTNET_DOMAIN)

    def ws_url(self, domain: str) -> str:
        return extended_web_utils.wss_base_url(domain)


if __name__ == "__main__":
    unittest.main()
