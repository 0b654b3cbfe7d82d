"""Read and validate ``curator.yml`` into frozen settings objects (see :mod:`bot.config.loading`).

The package's modules, in the order a file goes through them: ``reading`` (the file and its
YAML), ``secrets`` (credentials refused anywhere), ``models`` with ``values`` and ``cron`` (the
file's shape in pydantic), ``explain`` (pydantic's errors in the file's words), ``errors`` (the
error and how bad values are shown), ``loading`` (all of it, into the frozen ``settings`` the
bot runs on); ``example`` is the file ``curator init`` writes.
"""

from bot.config.errors import ConfigError
from bot.config.example import example_config, example_path, write_example
from bot.config.loading import config_from_mapping, load_config
from bot.config.settings import (
    JOBS,
    CandidatesConfig,
    Config,
    ContentConfig,
    Desk,
    ScheduleConfig,
    SlackConfig,
    VotesConfig,
)

__all__ = [
    "JOBS",
    "CandidatesConfig",
    "Config",
    "ConfigError",
    "ContentConfig",
    "Desk",
    "ScheduleConfig",
    "SlackConfig",
    "VotesConfig",
    "config_from_mapping",
    "example_config",
    "example_path",
    "load_config",
    "write_example",
]
