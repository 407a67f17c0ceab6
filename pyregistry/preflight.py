"""Build the app once before announcing the server, so a bad configuration is reported
*before* any "listening on" line, never after it.

With one worker, the app built here is the one that serves. With several, each worker
builds its own after the supervisor has bound the socket; the supervisor first builds one
in a forked child that reports how it went and exits. The child's side effects are the
ones a worker's would have been (a generated htpasswd, signing key or queue directory),
and whatever else it opened goes away with it.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable
from typing import Any

from pyregistry.config import Config, ConfigError

#: Exit statuses of the forked check.
_OK, _CONFIG_ERROR, _OTHER_ERROR = 0, 2, 1


def check_in_child(config: Config, build: Callable[[Config], Any]) -> None:
    """Run ``build(config)`` in a forked child; re-raise its :class:`ConfigError` here,
    or a RuntimeError with the child's traceback for any other failure."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: build, report, exit without running any parent cleanup
        status = _OK
        report: dict[str, Any] = {}
        try:
            os.close(read_end)
            build(config)
        except ConfigError as exc:
            status = _CONFIG_ERROR
            report = {"message": exc.message, "key": exc.key, "source": exc.source}
        except BaseException:  # noqa: BLE001 - anything the app raises is reported to the parent
            status = _OTHER_ERROR
            report = {"traceback": traceback.format_exc()}
        finally:
            with os.fdopen(write_end, "w") as pipe:
                json.dump(report, pipe)
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    _, wait_status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(wait_status)
    report = json.loads(text) if text else {}
    if code == _CONFIG_ERROR:
        raise ConfigError(report["message"], key=report.get("key"), source=report.get("source"))
    if code != _OK:
        detail = report.get("traceback") or f"the check exited with status {code}"
        raise RuntimeError(f"the app could not be built:\n{detail}")
