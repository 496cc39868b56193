"""Writes a sandbox's Hummingbot configuration with Hummingbot's own code: password verification, the client
config, encrypted connector keys and a strategy file. Runs inside the sandbox (see demo.sandbox).

    HBOT_PASSWORD=... python -m demo.hb_setup CONNECTOR - [STRATEGY_FILE STRATEGY_YAML_JSON] < KEYS_JSON

KEYS_JSON maps config field suffixes to values ({"api_private_key": ...}); it is read from standard input only ("-"),
so that no key shows on a command line.
"""
import json
import os
import sys

import yaml

from hummingbot.client.config.client_config_map import ClientConfigMap
from hummingbot.client.config.config_crypt import ETHKeyFileSecretManger, store_password_verification
from hummingbot.client.config.config_helpers import ClientConfigAdapter, save_to_yml
from hummingbot.client.config.security import Security
from hummingbot.client.settings import CLIENT_CONFIG_PATH, STRATEGIES_CONF_DIR_PATH, AllConnectorSettings


def main():
    if len(sys.argv) < 3 or sys.argv[2] != "-":
        sys.exit("usage: python -m demo.hb_setup CONNECTOR - [STRATEGY_FILE STRATEGY_YAML_JSON] < KEYS_JSON "
                 "(keys are read from standard input only).")
    connector, keys = sys.argv[1], json.loads(sys.stdin.read())
    secrets_manager = ETHKeyFileSecretManger(os.environ.pop("HBOT_PASSWORD"))
    store_password_verification(secrets_manager)
    Security.login(secrets_manager)

    client_config = ClientConfigAdapter(ClientConfigMap())
    save_to_yml(CLIENT_CONFIG_PATH, client_config)

    store_keys(connector, keys)
    if len(sys.argv) > 4:
        write_strategy(sys.argv[3], json.loads(sys.argv[4]))


def store_keys(connector: str, keys: dict):
    """Stores a connector's keys ({suffix: value}) encrypted with the logged-in password, as `connect` does."""
    settings = AllConnectorSettings.create_connector_settings()[connector]
    config = ClientConfigAdapter(settings.config_keys.__class__.model_construct())
    for suffix, value in keys.items():
        setattr(config, f"{connector}_{suffix}", value)
    Security.update_secure_config(config)


def write_strategy(file_name: str, config: dict):
    with open(STRATEGIES_CONF_DIR_PATH / file_name, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)


if __name__ == "__main__":
    main()
