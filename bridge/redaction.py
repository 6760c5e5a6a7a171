"""Secrets out of everything a person reads: ``config show``, logs, error lines.

One rule set, used everywhere the bridge prints or logs text that may hold configuration:

* a value whose *name* says secret (password, token, key…) is replaced whole;
* inside free text, the password of a URL or a ``user:password@host`` address is masked
  (``postgresql+asyncpg://bridge:***@db/bridge``), and so is a ``password=…`` pair of a
  libpq-style DSN or a URL's query string. The user name and host stay: they are what an
  operator needs to tell which server was meant.
"""

from __future__ import annotations

import re

MASK = "***"

#: A setting, header or log field whose name says that its value is a secret…
SECRET_NAME = re.compile(r"pass|secret|token|key|credential|authorization", re.I)
#: …unless the value only says where the secret lives (``ssl_keyfile``: a path to show).
_LOCATION_NAME = re.compile(r"(file|_path|_dir)$", re.I)

# ``[scheme://]user:password@host``: the password is whatever stands between the ':' after the
# user and the last '@' before a space or a ',' (a list of servers stays a list). A password may
# hold '/' or an unencoded '@': when in doubt, more is masked, never less.
_USERINFO = re.compile(r"(?P<user>(?:\b[A-Za-z][\w+.-]*://)?[^\s:/@,;'\"]+):(?P<password>[^\s,;'\"]+)@")
# ``password=…`` in a DSN (``host=db password=x``) or a query string (``?password=x&…``).
_PAIR = re.compile(
    r"(?P<name>\b(?:password|passwd|pwd|sslpassword|secret|token|api[_-]?key))"
    r"(?P<sep>\s*=\s*)(?P<value>[^\s&;,'\"]+)",
    re.I,
)


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not _LOCATION_NAME.search(name)


def mask_secrets(text: str) -> str:
    """``text`` with every password inside a URL, address or DSN pair masked."""
    if "@" in text:
        text = _USERINFO.sub(lambda m: f"{m['user']}:{MASK}@", text)
    if "=" in text:
        text = _PAIR.sub(lambda m: f"{m['name']}{m['sep']}{MASK}", text)
    return text


def mask_value(name: str, value: object) -> object:
    """A configuration value as it may be shown: secret-named values masked whole (when set),
    strings otherwise cleared of the passwords they carry; nested data masked the same way."""
    if isinstance(value, dict):
        return {key: mask_value(str(key), item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_value(name, item) for item in value]
    if value not in (None, "") and is_secret_name(name):
        return MASK
    return mask_secrets(value) if isinstance(value, str) else value
