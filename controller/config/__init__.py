"""The gateway's configuration (DESIGN section 8): YAML validated by pydantic."""

from controller.config.load import load_config
from controller.config.models import GatewayConfig, LaneConfig

__all__ = ["GatewayConfig", "LaneConfig", "load_config"]
