"""Writes a sandbox's Hummingbot configuration with Hummingbot's own code: password verification, the client
config, encrypted connector keys and a strategy file. Runs inside the sandbox (see demo.sandbox).

    HBOT_PASSWORD=... python -m demo.hb_setup CONNECTOR KEYS_JSON [STRATEGY_FILE STRATEGY_YAML_JSON]

KEYS_JSON maps config field suffixes to values ({"api_private_key": ...}); it arrives on standard input when "-".
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
    connector, keys = sys.argv[1], json.loads(sys.stdin.read() if sys.argv[2] == "-" else sys.argv[2])
    secrets_manager = ETHKeyFileSecretManger(os.environ.pop("HBOT_PASSWORD"))
    store_password_verification(secrets_manager)
    Security.login(secrets_manager)

    client_config = ClientConfigAdapter(ClientConfigMap())
    save_to_yml(CLIENT_CONFIG_PATH, client_config)

    settings = AllConnectorSettings.create_connector_settings()[connector]
    config = ClientConfigAdapter(settings.config_keys.__class__.model_construct())
    for suffix, value in keys.items():
        setattr(config, f"{connector}_{suffix}", value)
    Security.update_secure_config(config)

    if len(sys.argv) > 4:
        with open(STRATEGIES_CONF_DIR_PATH / sys.argv[3], "w") as f:
            yaml.safe_dump(json.loads(sys.argv[4]), f, sort_keys=False)


if __name__ == "__main__":
    main()
