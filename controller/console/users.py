"""The console's local accounts: a JSON file of names, roles and argon2id hashes.

`gatectl console adduser` writes it, 0600, atomically (a temporary file beside it, then a
rename), so a console reading it never sees half a file; the new file keeps the old one's
owner (root adds accounts to the file the install made the console's). The console
re-reads it when it changes, so an account added or removed counts from the next
sign-in. An unknown name costs a hash check like a known one: timing does not tell which
names exist.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("viewer", "technician", "officer")
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MIN_PASSWORD = 8


class UsersFileError(Exception):
    """The users file or an account in it is not valid (the message names which)."""


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: str
    hash: str


class Users:
    def __init__(self, path: Path, hasher: PasswordHasher | None = None) -> None:
        self.path = path
        self.hasher = hasher or PasswordHasher()
        self._dummy = self.hasher.hash("not a password anyone has")
        self._seen: tuple[int, int] | None = None
        self._accounts: dict[str, Account] = {}

    def check(self, name: str, password: str) -> Account | None:
        """The account when the password is right, else None."""
        account = self.accounts().get(name)
        try:
            self.hasher.verify(account.hash if account else self._dummy, password)
        except (VerificationError, InvalidHashError):
            return None
        return account

    def accounts(self) -> dict[str, Account]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        if self._seen != (stat.st_mtime_ns, stat.st_size):
            self._accounts, self._seen = read_accounts(self.path), (stat.st_mtime_ns, stat.st_size)
        return self._accounts


def read_accounts(path: Path) -> dict[str, Account]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise UsersFileError(f"{path}: cannot read the users file ({error})") from None
    users = document.get("users") if isinstance(document, dict) else None
    if not isinstance(users, dict):
        raise UsersFileError(f"{path}: users: must be a mapping of name -> account")
    return {name: _account(path, name, entry) for name, entry in users.items()}


def _account(path: Path, name: str, entry: object) -> Account:
    if not NAME.match(name):
        raise UsersFileError(f"{path}: users.{name}: not a valid name")
    if not isinstance(entry, dict) or entry.get("role") not in ROLES:
        raise UsersFileError(f"{path}: users.{name}.role: must be one of {', '.join(ROLES)}")
    if not isinstance(entry.get("hash"), str):
        raise UsersFileError(f"{path}: users.{name}.hash: missing")
    return Account(name, str(entry["role"]), str(entry["hash"]))


def add_user(
    path: Path, name: str, role: str, password: str, hasher: PasswordHasher | None = None
) -> None:
    """Add or replace an account; the file is written 0600, atomically."""
    if not NAME.match(name):
        raise UsersFileError(f"name: {name!r} is not 1-64 letters, digits, '_', '.' or '-'")
    if role not in ROLES:
        raise UsersFileError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UsersFileError(f"password: at least {MIN_PASSWORD} characters")
    accounts = read_accounts(path) if path.exists() else {}
    accounts[name] = Account(name, role, (hasher or PasswordHasher()).hash(password))
    users = {a.name: {"role": a.role, "hash": a.hash} for a in accounts.values()}
    _write_atomically(path, json.dumps({"users": users}, indent=2, sort_keys=True) + "\n")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    owner = _owner(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        if owner is not None:
            _keep_owner(fd, path, owner)
        os.write(fd, text.encode())
        os.fsync(fd)
        os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _owner(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_uid, info.st_gid


def _keep_owner(fd: int, path: Path, owner: tuple[int, int]) -> None:
    if owner == (os.geteuid(), os.getegid()):
        return
    try:
        os.fchown(fd, *owner)
    except PermissionError:
        raise UsersFileError(
            f"{path}: owned by uid {owner[0]}: run adduser as root or as that user"
        ) from None
