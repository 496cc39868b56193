"""Runs the v2 controllers named in its config through Hummingbot's executor orchestration.

Hummingbot's PyPI package ships the v2 machinery (StrategyV2Base, controllers, executors) but no script to start
controllers with. This one adds only what StrategyV2Base leaves open: the controllers propose every executor action,
and each perpetual connector gets its controller's position mode and leverage once its markets are loaded.

    conf/scripts/<name>.yml:  script_file_name: v2_controllers.py
                              controllers_config: [my_controller.yml]      # files in conf/controllers/
    start --v2 <name>.yml        (headless: python -m hummingbot.cli.engine --name BOT --script-config <name>.yml)
"""
import os
from typing import List

from hummingbot.strategy.strategy_v2_base import StrategyV2Base, StrategyV2ConfigBase
from hummingbot.strategy_v2.models.executor_actions import CreateExecutorAction, StopExecutorAction


class V2ControllersConfig(StrategyV2ConfigBase):
    script_file_name: str = os.path.basename(__file__)


class V2Controllers(StrategyV2Base):
    _settings_applied = False

    def create_actions_proposal(self) -> List[CreateExecutorAction]:
        return []

    def stop_actions_proposal(self) -> List[StopExecutorAction]:
        return []

    def tick(self, timestamp: float):
        super().tick(timestamp)
        # A venue's leverage call needs its markets loaded: applied on the tick the connectors are found ready.
        if self.ready_to_trade and not self._settings_applied:
            self._settings_applied = True
            self.apply_controller_settings()

    def apply_controller_settings(self):
        for controller in self.controllers.values():
            config = controller.config
            connector_name = getattr(config, "connector_name", None)
            if connector_name is None or not self.is_perpetual(connector_name):
                continue
            if hasattr(config, "position_mode"):
                self.set_position_mode(connector_name, config.position_mode)
            if hasattr(config, "leverage") and hasattr(config, "trading_pair"):
                self.set_leverage(connector_name, config.trading_pair, config.leverage)
