import unittest

from pydantic import SecretStr

from hummingbot.client.config.config_helpers import ClientConfigAdapter, ConfigValidationError
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_utils as utils

API_KEY = "3f9a" * 8
STARK_PRIVATE_KEY = "0x" + "7c" * 31
STARK_PUBLIC_KEY = "0x61c5e7e8339b7d56f197f54ea91b776776690e3232313de0f2ecbd0ef76f466"


class ExtendedPerpetualConfigMapTest(unittest.TestCase):
    def adapters(self):
        yield "extended_perpetual", ClientConfigAdapter(utils.ExtendedPerpetualConfigMap.model_construct())
        for domain, keys in utils.OTHER_DOMAINS_KEYS.items():
            yield domain, ClientConfigAdapter(keys.__class__.model_construct())

    def test_testnet_domain_is_declared_completely(self):
        self.assertEqual(["extended_perpetual_testnet"], utils.OTHER_DOMAINS)
        for table in (utils.OTHER_DOMAINS_PARAMETER, utils.OTHER_DOMAINS_EXAMPLE_PAIR,
                      utils.OTHER_DOMAINS_DEFAULT_FEES, utils.OTHER_DOMAINS_KEYS):
            self.assertEqual(set(utils.OTHER_DOMAINS), set(table))

    def test_valid_input_builds_the_map(self):
        for domain, adapter in self.adapters():
            setattr(adapter, f"{domain}_api_secret", API_KEY)
            setattr(adapter, f"{domain}_stark_private_key", STARK_PRIVATE_KEY)
            setattr(adapter, f"{domain}_stark_public_key", STARK_PUBLIC_KEY)
            setattr(adapter, f"{domain}_vault", "10002")
            self.assertEqual(10002, getattr(adapter, f"{domain}_vault"))
            self.assertIsInstance(getattr(adapter, f"{domain}_api_secret"), SecretStr)
            self.assertEqual(STARK_PRIVATE_KEY, getattr(adapter, f"{domain}_stark_private_key").get_secret_value())

    def test_secrets_are_masked_on_every_domain(self):
        for domain, adapter in self.adapters():
            self.assertTrue(adapter.is_secure(f"{domain}_api_secret"), domain)
            self.assertTrue(adapter.is_secure(f"{domain}_stark_private_key"), domain)
            self.assertFalse(adapter.is_secure(f"{domain}_stark_public_key"), domain)
            setattr(adapter, f"{domain}_api_secret", API_KEY)
            setattr(adapter, f"{domain}_stark_private_key", STARK_PRIVATE_KEY)
            printed = " ".join(str(item.printable_value) for item in adapter.traverse(secure=True))
            self.assertNotIn(API_KEY, printed)
            self.assertNotIn(STARK_PRIVATE_KEY, printed)

    def test_malformed_stark_keys_are_rejected_without_echoing_them(self):
        for bad in ("7c" * 31, "0x" + "g" * 10, "0x" + "1" * 65):
            for domain, adapter in self.adapters():
                with self.assertRaises(ConfigValidationError) as error:
                    setattr(adapter, f"{domain}_stark_private_key", bad)
                self.assertIn("Stark private key must be 0x followed by up to 64 hexadecimal", str(error.exception))
                self.assertNotIn(bad, str(error.exception))
                with self.assertRaises(ConfigValidationError) as error:
                    setattr(adapter, f"{domain}_stark_public_key", bad)
                self.assertIn("Stark public key", str(error.exception))

    def test_bad_api_key_and_vault(self):
        for domain, adapter in self.adapters():
            with self.assertRaises(ConfigValidationError) as error:
                setattr(adapter, f"{domain}_api_secret", "short key")
            self.assertIn("API key must be the 16 to 128 letters and digits", str(error.exception))
            for vault in ("0", "-3", "abc"):
                with self.assertRaises(ConfigValidationError) as error:
                    setattr(adapter, f"{domain}_vault", vault)
                self.assertIn("vault number must be a positive whole number", str(error.exception))

    def test_dead_man_switch_window(self):
        for domain, adapter in self.adapters():
            field = f"{domain}_dead_man_switch_seconds"
            self.assertEqual(60, getattr(adapter, field))
            for answer, seconds in (("", 60), ("  ", 60), ("0", 0), ("10", 10), (" 45 ", 45), ("86400", 86400)):
                setattr(adapter, field, answer)
                self.assertEqual(seconds, getattr(adapter, field), answer)
            for bad in ("-1", "5", "9", "86401", "1.5", "abc", "1e3", "yes"):
                with self.assertRaises(ConfigValidationError) as error:
                    setattr(adapter, field, bad)
                self.assertIn("The dead man's switch must be 0 (off) or a whole number of seconds from 10 to 86400, "
                              "or empty for 60.", str(error.exception))
            self.assertFalse(adapter.is_secure(field))

    def test_maximum_order_age_is_a_file_setting_not_asked_at_connect(self):
        for domain, adapter in self.adapters():
            field = f"{domain}_max_order_age_seconds"
            self.assertEqual(5.0, getattr(adapter, field))
            self.assertFalse(utils.OTHER_DOMAINS_KEYS.get(domain, utils.KEYS).model_fields[field]
                             .json_schema_extra["prompt_on_new"])
            for answer, seconds in (("", 5.0), ("0.5", 0.5), (" 2 ", 2.0), ("600", 600.0)):
                setattr(adapter, field, answer)
                self.assertEqual(seconds, getattr(adapter, field), answer)
            for bad in ("0", "-1", "600.5", "soon", "nan", "inf"):
                with self.assertRaises(ConfigValidationError) as error:
                    setattr(adapter, field, bad)
                self.assertIn("The maximum order age must be a number of seconds above 0 and at most 600, or empty "
                              "for 5.", str(error.exception))


class EncryptedConfigFileTest(unittest.TestCase):
    def test_config_file_with_encrypted_secrets_loads(self):
        # Hummingbot validates a connector file while its secrets are still encrypted, then again decrypted.
        from hummingbot.client.config.config_crypt import ETHKeyFileSecretManger
        secrets_manager = ETHKeyFileSecretManger("a password")
        loaded = utils.ExtendedPerpetualConfigMap.model_validate({
            "extended_perpetual_api_secret": secrets_manager.encrypt_secret_value("a", API_KEY),
            "extended_perpetual_stark_private_key": secrets_manager.encrypt_secret_value("b", STARK_PRIVATE_KEY),
            "extended_perpetual_stark_public_key": STARK_PUBLIC_KEY, "extended_perpetual_vault": 10002})
        self.assertTrue(loaded.extended_perpetual_api_secret.get_secret_value().startswith("7b22"))
        with self.assertRaises(ConfigValidationError):
            ClientConfigAdapter(loaded).extended_perpetual_stark_private_key = "not a key"


if __name__ == "__main__":
    unittest.main()
