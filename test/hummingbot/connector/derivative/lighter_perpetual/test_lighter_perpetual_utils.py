import unittest

from pydantic import SecretStr

from hummingbot.client.config.config_helpers import ClientConfigAdapter, ConfigValidationError
from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_utils as utils

PRIVATE_KEY = "ab" * 40


class LighterPerpetualConfigMapTest(unittest.TestCase):
    def adapters(self):
        yield "lighter_perpetual", ClientConfigAdapter(utils.LighterPerpetualConfigMap.model_construct())
        for domain, keys in utils.OTHER_DOMAINS_KEYS.items():
            yield domain, ClientConfigAdapter(keys.__class__.model_construct())

    def test_testnet_domain_is_declared_completely(self):
        self.assertEqual(["lighter_perpetual_testnet"], utils.OTHER_DOMAINS)
        for table in (utils.OTHER_DOMAINS_PARAMETER, utils.OTHER_DOMAINS_EXAMPLE_PAIR,
                      utils.OTHER_DOMAINS_DEFAULT_FEES, utils.OTHER_DOMAINS_KEYS):
            self.assertEqual(set(utils.OTHER_DOMAINS), set(table))

    def test_valid_input_builds_the_map(self):
        for domain, adapter in self.adapters():
            setattr(adapter, f"{domain}_api_private_key", "0x" + PRIVATE_KEY)
            setattr(adapter, f"{domain}_api_key_index", "3")
            setattr(adapter, f"{domain}_account_index", "281474976641952")
            setattr(adapter, f"{domain}_l1_address", "0x15f43D1f2DeE81424aFd891943262aa90F22cc2A")
            setattr(adapter, f"{domain}_account_tier", "premium")
            self.assertEqual(3, getattr(adapter, f"{domain}_api_key_index"))
            self.assertEqual(281474976641952, getattr(adapter, f"{domain}_account_index"))
            self.assertEqual("Premium", getattr(adapter, f"{domain}_account_tier"))
            key = getattr(adapter, f"{domain}_api_private_key")
            self.assertIsInstance(key, SecretStr)
            self.assertEqual("0x" + PRIVATE_KEY, key.get_secret_value())

    def test_optional_fields_have_defaults(self):
        for domain, adapter in self.adapters():
            self.assertEqual("", getattr(adapter, f"{domain}_l1_address"))
            self.assertEqual("Standard", getattr(adapter, f"{domain}_account_tier"))

    def test_cancel_all_on_stop_is_asked_off_by_default_and_takes_yes_or_no(self):
        for domain, adapter in self.adapters():
            field = f"{domain}_cancel_all_on_stop"
            self.assertFalse(getattr(adapter, field))
            self.assertTrue(adapter.get_client_data(field).prompt_on_new)
            for answer, expected in (("Yes", True), ("n", False), (True, True), ("", False), (None, False)):
                setattr(adapter, field, answer)
                self.assertIs(expected, getattr(adapter, field))
            with self.assertRaises(ConfigValidationError) as error:
                setattr(adapter, field, "maybe")
            self.assertEqual("Answer yes or no (y, n, true and false work too); an empty answer means no.",
                             str(error.exception))

    def test_constructor_answers_match_the_prompt_answers(self):
        for answer, expected in (("", False), (None, False), ("no", False), ("Y", True), ("true", True)):
            self.assertIs(expected, utils.validate_yes_no(answer))
        with self.assertRaises(ValueError):
            utils.validate_yes_no("maybe")

    def test_dead_man_switch_window_is_on_by_default_and_held_to_lighters_range(self):
        for answer, expected in (("", 300), (None, 300), ("0", 0), (0, 0), (300, 300), ("1296000", 1296000)):
            self.assertEqual(expected, utils.validate_dead_man_switch_seconds(answer))
        for domain, adapter in self.adapters():
            field = f"{domain}_dead_man_switch_seconds"
            self.assertTrue(adapter.get_client_data(field).prompt_on_new)
            for bad in ("60", "299", "1296001", "-1", "ten", "5.0"):
                with self.assertRaises(ConfigValidationError) as error:
                    setattr(adapter, field, bad)
                self.assertEqual("The dead man's switch must be 0 (off) or a whole number of seconds from 300 "
                                 "(Lighter's shortest scheduled cancel-all) to 1296000 (15 days), or empty for 300.",
                                 str(error.exception))

    def test_secrets_are_masked_in_prompts_and_listings_on_every_domain(self):
        for domain, adapter in self.adapters():
            self.assertTrue(adapter.is_secure(f"{domain}_api_private_key"), domain)
            self.assertFalse(adapter.is_secure(f"{domain}_api_key_index"), domain)
            setattr(adapter, f"{domain}_api_private_key", PRIVATE_KEY)
            printed = {item.attr: item.printable_value for item in adapter.traverse(secure=True)}
            self.assertNotIn(PRIVATE_KEY, printed[f"{domain}_api_private_key"])
            self.assertNotIn(PRIVATE_KEY, repr(adapter))

    def test_negative_key_index_is_rejected_with_a_clear_message(self):
        for domain, adapter in self.adapters():
            with self.assertRaises(ConfigValidationError) as error:
                setattr(adapter, f"{domain}_api_key_index", -1)
            self.assertIn("API key index must be a whole number from 0 to 254", str(error.exception))
            with self.assertRaises(ConfigValidationError):
                setattr(adapter, f"{domain}_api_key_index", 255)

    def test_malformed_private_key_is_rejected_without_echoing_it(self):
        for bad in ("not-hex-" + "z" * 72, "ab" * 20, "0x" + "ab" * 41):
            for domain, adapter in self.adapters():
                with self.assertRaises(ConfigValidationError) as error:
                    setattr(adapter, f"{domain}_api_private_key", bad)
                self.assertIn("API private key must be 80 hexadecimal characters", str(error.exception))
                self.assertNotIn(bad, str(error.exception))

    def test_other_bad_inputs(self):
        domain, adapter = next(self.adapters())
        cases = {
            "account_index": ("-5", "account index must be a whole number of 0 or more"),
            "l1_address": ("0x1234", "L1 address must be 0x followed by 40 hexadecimal characters"),
            "account_tier": ("Gold", "account tier must be one of Standard, Premium, Plus, Builder"),
        }
        for suffix, (value, message) in cases.items():
            with self.assertRaises(ConfigValidationError) as error:
                setattr(adapter, f"{domain}_{suffix}", value)
            self.assertIn(message, str(error.exception))


class EncryptedConfigFileTest(unittest.TestCase):
    def test_config_file_with_encrypted_key_loads_and_the_clear_key_is_still_checked(self):
        # Hummingbot validates a connector file while its secrets are still encrypted, then again decrypted.
        from hummingbot.client.config.config_crypt import ETHKeyFileSecretManger
        ciphertext = ETHKeyFileSecretManger("a password").encrypt_secret_value("key", PRIVATE_KEY)
        loaded = utils.LighterPerpetualConfigMap.model_validate({
            "lighter_perpetual_api_private_key": ciphertext, "lighter_perpetual_api_key_index": 2,
            "lighter_perpetual_account_index": 7})
        self.assertEqual(ciphertext, loaded.lighter_perpetual_api_private_key.get_secret_value())
        adapter = ClientConfigAdapter(loaded)
        with self.assertRaises(ConfigValidationError):
            adapter.lighter_perpetual_api_private_key = "0x" + "zz" * 40


if __name__ == "__main__":
    unittest.main()
