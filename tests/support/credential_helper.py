"""A Docker credential helper program for tests, run as docker-credential-helpers are:
``helper get`` with the host on standard input. It answers from a JSON file of logins per
host (a test can change them), writes every host it is asked for to a log, and hangs
when told to."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HELPER = """\
#!{python}
import json, pathlib, sys
here = pathlib.Path(__file__).parent
assert sys.argv[1:] == ["get"], sys.argv
host = sys.stdin.read()
with open(here / "asked.log", "a") as log:
    log.write(host + "\\n")
if (here / "hang").exists():
    import time
    time.sleep(60)
logins = json.loads((here / "logins.json").read_text())
if host not in logins:
    print("credentials not found in native keychain")
    sys.exit(1)
user, secret = logins[host]
print(json.dumps({{"ServerURL": host, "Username": user, "Secret": secret}}))
"""


class Helper:
    """A credential helper program under ``root`` and what it was asked."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.path = root / "docker-credential-test"
        self.path.write_text(HELPER.format(python=sys.executable))
        self.path.chmod(0o755)
        self.give({})

    def give(self, logins: dict[str, tuple[str, str]]) -> None:
        (self.root / "logins.json").write_text(json.dumps(logins))

    def asked(self) -> list[str]:
        log = self.root / "asked.log"
        return log.read_text().splitlines() if log.exists() else []

    def hang(self) -> None:
        (self.root / "hang").touch()
