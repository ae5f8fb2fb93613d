"""Development on a bare machine: SQLite, filesystem broker, console e-mail, DEBUG on."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
