"""logrus's level names (distribution's) beside Python's levels: how lines print them, and
what ``log.level`` and a mail hook's ``levels`` may name."""

from __future__ import annotations

import logging

#: A record's level as distribution prints it.
LEVEL_NAMES = {
    logging.CRITICAL: "fatal",
    logging.ERROR: "error",
    logging.WARNING: "warning",
    logging.INFO: "info",
    logging.DEBUG: "debug",
}
#: Every logrus level name and the records it stands for (``panic``/``fatal``: critical).
LOGRUS_LEVELS = {
    "panic": logging.CRITICAL,
    "fatal": logging.CRITICAL,
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": logging.DEBUG,
}
