#!/bin/sh
# Install gatebridge on a lane gateway (docs/operations.md). Idempotent: a second run
# changes nothing, and an edited /etc/gatebridge/gateway.yaml is never overwritten (the
# release's example is kept beside it as gateway.yaml.dist).
#
#   deploy/install.sh [--prefix DIR] [--no-venv]      (DESTDIR=/some/root honoured)
#
#   --prefix DIR  where releases live (default /opt/gatebridge): DIR/releases/VERSION is
#                 a venv with gatebridge installed, DIR/current links the active one
#   --no-venv     lay down everything but the venv (tests, packaging)
#
# With DESTDIR set, the files go under it and nothing on the running system is touched
# (no users or groups created, no owners changed, no systemctl). Note that a venv is not
# relocatable: build it with DESTDIR only for a chroot that mounts at DESTDIR.
set -eu
umask 022

PREFIX=/opt/gatebridge
BUILD_VENV=1
DESTDIR=${DESTDIR:-}
PYTHON=${PYTHON:-python3}
SYSTEM=/usr/local  # admin-installed units, sysusers, tmpfiles and completions (systemd(1))

usage() {
    echo "usage: $0 [--prefix DIR] [--no-venv]   (DESTDIR=ROOT honoured)" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
        --prefix) [ $# -ge 2 ] || usage; PREFIX=$2; shift 2 ;;
        --prefix=*) PREFIX=${1#--prefix=}; shift ;;
        --no-venv) BUILD_VENV=0; shift ;;
        -h|--help) usage ;;
        *) echo "error: unknown argument: $1" >&2; usage ;;
    esac
done
case $PREFIX in
    /*) ;;
    *) echo "error: --prefix: $PREFIX is not an absolute path" >&2; exit 2 ;;
esac

SRC=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$SRC/pyproject.toml")
[ -n "$VERSION" ] || { echo "error: no version in $SRC/pyproject.toml" >&2; exit 1; }
ROOT=$DESTDIR
CONSOLE_UNIT_NEW=0  # the console's unit laid down by this run: enable it (once)
LIVE=0  # installing onto this running system (not into a DESTDIR), as root
if [ -z "$DESTDIR" ] && [ "$(id -u)" = 0 ]; then LIVE=1; fi

say() { echo "install: $*"; }

# base PATH: a directory of the system's own (/etc, /var/lib...): created, never changed
base() { mkdir -p "$ROOT$1"; }

# dir PATH MODE [OWNER:GROUP]: create, then set its mode (and owner on a live system)
dir() {
    mkdir -p "$ROOT$1"
    chmod "$2" "$ROOT$1"
    own "$1" "${3:-}"
}

# own PATH OWNER:GROUP: only on a live system, only when the group exists
own() {
    if [ "$LIVE" = 1 ] && [ -n "$2" ] && getent group "${2#*:}" >/dev/null; then
        chown "$2" "$ROOT$1"
    fi
}

# put SOURCE PATH MODE [OWNER:GROUP]: copy unless the content is already the same
put() {
    if ! cmp -s "$1" "$ROOT$2"; then
        cp "$1" "$ROOT$2.new"
        mv -f "$ROOT$2.new" "$ROOT$2"
        say "wrote $2"
    fi
    chmod "$3" "$ROOT$2"
    own "$2" "${4:-}"
}

# put_edited SOURCE PATH: like put, with the install prefix written into the file
put_edited() {
    tmp=$(mktemp)
    sed "s#/opt/gatebridge#$PREFIX#g" "$1" >"$tmp"
    put "$tmp" "$2" 0644
    rm -f "$tmp"
}

# link TARGET PATH: a symlink, replaced atomically when it points elsewhere
link() {
    if [ "$(readlink "$ROOT$2" 2>/dev/null || true)" != "$1" ]; then
        ln -sfn "$1" "$ROOT$2.new"
        mv -Tf "$ROOT$2.new" "$ROOT$2"
        say "linked $2 -> $1"
    fi
}

release() {
    release=$PREFIX/releases/$VERSION
    dir "$PREFIX" 0755
    dir "$PREFIX/releases" 0755
    if [ "$BUILD_VENV" = 1 ] && [ ! -e "$ROOT$release/.complete" ]; then
        say "building the venv $release"
        rm -rf "$ROOT$release"
        "$PYTHON" -m venv "$ROOT$release"
        "$ROOT$release/bin/python" -m pip install --quiet "$SRC"
        touch "$ROOT$release/.complete"  # a half-built venv is rebuilt on the next run
    fi
    link "releases/$VERSION" "$PREFIX/current"
    dir "$PREFIX/share" 0755
    dir "$PREFIX/share/doc" 0755
    dir "$PREFIX/share/doc/gatebridge" 0755
    put "$SRC/docs/operations.md" "$PREFIX/share/doc/gatebridge/operations.md" 0644
    dir "$PREFIX/share/gatebridge" 0755
    dir "$PREFIX/share/gatebridge/examples" 0755
    for example in "$SRC"/deploy/examples/*.yaml; do
        put "$example" "$PREFIX/share/gatebridge/examples/${example##*/}" 0644
    done
    base /usr
    base "$SYSTEM"
    base "$SYSTEM/bin"
    link "$PREFIX/current/bin/gatectl" "$SYSTEM/bin/gatectl"
}

config() {
    base /etc
    dir /etc/gatebridge 0755 root:root
    put "$SRC/deploy/examples/gateway.yaml" /etc/gatebridge/gateway.yaml.dist 0644 root:root
    if [ ! -e "$ROOT/etc/gatebridge/gateway.yaml" ]; then
        put "$SRC/deploy/examples/gateway.yaml" /etc/gatebridge/gateway.yaml 0640 root:gatebridge
    else
        chmod 0640 "$ROOT/etc/gatebridge/gateway.yaml"  # the content is the site's own
        own /etc/gatebridge/gateway.yaml root:gatebridge
    fi
    console_users
    # the service reads the public keys, the broker password and CA; private keys (a
    # central's signing key) are root's alone
    dir /etc/gatebridge/keys 0750 root:gatebridge
    for key in "$ROOT"/etc/gatebridge/keys/*; do
        [ -f "$key" ] || continue
        path=${key#"$ROOT"}
        case $key in
            *.key) chmod 0600 "$key"; own "$path" root:root ;;
            *) chmod 0640 "$key"; own "$path" root:gatebridge ;;
        esac
    done
}

# the console's accounts (console.users_file, at its default path): no accounts until
# `gatectl console adduser`; the console's to read, root's to write (docs/console.md)
console_users() {
    users=/etc/gatebridge/console-users.json
    if [ ! -e "$ROOT$users" ]; then
        printf '{"users": {}}\n' >"$ROOT$users.new"
        chmod 0600 "$ROOT$users.new"
        mv -f "$ROOT$users.new" "$ROOT$users"
        say "wrote $users"
    fi
    chmod 0600 "$ROOT$users"
    own "$users" gatebridge-console:gatebridge-console
}

state() {
    base /var
    base /var/lib
    dir /var/lib/gatebridge 0750 gatebridge:gatebridge
    base /var/log
    dir /var/log/gatebridge 0750 gatebridge:gatebridge
}

system() {
    base "$SYSTEM/lib"
    for sub in systemd systemd/system sysusers.d tmpfiles.d; do base "$SYSTEM/lib/$sub"; done
    put_edited "$SRC/deploy/systemd/gatebridge.service" "$SYSTEM/lib/systemd/system/gatebridge.service"
    console_unit=$SYSTEM/lib/systemd/system/gatebridge-console.service
    [ -e "$ROOT$console_unit" ] || CONSOLE_UNIT_NEW=1
    put_edited "$SRC/deploy/systemd/gatebridge-console.service" "$console_unit"
    put "$SRC/deploy/systemd/gatebridge.sysusers" "$SYSTEM/lib/sysusers.d/gatebridge.conf" 0644
    put "$SRC/deploy/systemd/gatebridge.tmpfiles" "$SYSTEM/lib/tmpfiles.d/gatebridge.conf" 0644
    base "$SYSTEM/share"
    for sub in share/bash-completion share/bash-completion/completions; do
        dir "$SYSTEM/$sub" 0755
    done
    put "$SRC/deploy/bash-completion/gatectl" "$SYSTEM/share/bash-completion/completions/gatectl" 0644
}

accounts() {
    # the user and the groups: gatebridge (the service), gatebridge-ops (the socket),
    # gatebridge-tech and gatebridge-officer (the roles in gateway.yaml)
    if command -v systemd-sysusers >/dev/null; then
        systemd-sysusers "$SYSTEM/lib/sysusers.d/gatebridge.conf"
    else
        for group in gatebridge gatebridge-ops gatebridge-tech gatebridge-officer \
            gatebridge-console; do
            getent group "$group" >/dev/null || groupadd --system "$group"
        done
        getent passwd gatebridge >/dev/null || useradd --system --gid gatebridge \
            --home-dir /var/lib/gatebridge --shell /usr/sbin/nologin gatebridge
        usermod --append --groups dialout,gatebridge-ops gatebridge
        getent passwd gatebridge-console >/dev/null || useradd --system \
            --gid gatebridge-console --home-dir / --shell /usr/sbin/nologin gatebridge-console
        usermod --append --groups gatebridge-ops gatebridge-console
    fi
}

live() {
    accounts
    # owners now that the accounts exist (the first run created them after the files)
    config
    state
    if command -v systemd-tmpfiles >/dev/null; then
        systemd-tmpfiles --create "$SYSTEM/lib/tmpfiles.d/gatebridge.conf"
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
    fi
    enable_console
}

# the console starts with the service (WantedBy=gatebridge.service) when the config has a
# console: section; only on the run that installs its unit, so that a console the site
# disabled stays disabled through upgrades
enable_console() {
    if [ "$CONSOLE_UNIT_NEW" = 1 ] && command -v systemctl >/dev/null &&
        grep -q '^console:' /etc/gatebridge/gateway.yaml; then
        systemctl enable --quiet gatebridge-console.service
        say "enabled gatebridge-console (it starts with gatebridge)"
    fi
}

release
config
state
system
if [ "$LIVE" = 1 ]; then live; fi
say "gatebridge $VERSION in ${DESTDIR:+$DESTDIR}$PREFIX (current -> releases/$VERSION)"
if [ "$LIVE" = 1 ]; then
    say "next: edit /etc/gatebridge/gateway.yaml, gatectl config check it, then"
    say "      systemctl enable --now gatebridge   (docs/operations.md)"
    say "      gatectl console adduser NAME --role officer --config /etc/gatebridge/gateway.yaml"
fi
