"""Who runs an operator's command, for its audit lines: the login name (LOGNAME, USER,
or the password database), else the uid (a container's user may have no name)."""

from __future__ import annotations

import getpass
import os


def who() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name in the environment nor in /etc/passwd
        return f"uid:{os.getuid()}"
