#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Smoke test of a built preforkd .deb, without installing it:
#   debian/tests-smoke.sh path/to/preforkd_VERSION_ARCH.deb
# Unpacks it (dpkg -x) into a temporary directory, runs the binary (-V, and
# -t on the shipped configuration pointed at temporary directories), checks
# the package's contents and conffiles, and runs lintian on it.  Prints one
# line per check ("ok" or "FAIL"); exits 1 if any check failed, 2 on usage.
# Needs dpkg-dev (dpkg-deb), lintian, and the package's run-time libraries
# (libconfuse2) on the machine.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
	echo "usage: $0 PACKAGE.deb" >&2
	exit 2
fi
deb=$(readlink -f "$1")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/preforkd-smoke.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
failed=0

ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

# check DESCRIPTION COMMAND...: ok if COMMAND succeeds, else FAIL with its
# output (indented).
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		fail "$what"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/     | /'
	fi
}

# The contents listing, as paths without the leading "." (dirs keep their /).
listing=$tmp/contents
if ! dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$listing" ||
	[ ! -s "$listing" ]; then
	fail "dpkg-deb -c $(basename "$deb"): unreadable package"
	exit 1
fi
version=$(dpkg-deb -f "$deb" Version)
upstream=${version%-*}

if dpkg -x "$deb" "$root"; then
	ok "dpkg -x $(basename "$deb")"
else
	fail "dpkg -x $(basename "$deb")"
	exit 1
fi
bin=$root/usr/sbin/preforkd

# preforkd -V prints "preforkd VERSION" (the upstream part of the version).
v_out=$("$bin" -V 2>&1)
if [ "$v_out" = "preforkd $upstream" ]; then
	ok "preforkd -V: $v_out"
else
	fail "preforkd -V: '$v_out', expected 'preforkd $upstream'"
fi

# preforkd -t on the shipped configuration, its document root and log, run
# and pid paths moved into the temporary directory.  Run as root, -t opens
# the root as the configuration's user (www-data), who must be able to
# enter the temporary directory (mktemp makes it 0700).
mkdir -p "$tmp/www" "$tmp/log" "$tmp/run"
chmod 755 "$tmp"
conf=$tmp/preforkd.conf
sed -e "s|\"/var/www/html\"|\"$tmp/www\"|g" \
	-e "s|\"/var/log/preforkd/|\"$tmp/log/|g" \
	-e "s|\"/run/|\"$tmp/run/|g" \
	"$root/etc/preforkd.conf" >"$conf"
check "preforkd -t -f etc/preforkd.conf (root, logs moved to $tmp)" \
	"$bin" -t -f "$conf"

# What the package must contain.
for path in /usr/sbin/preforkd /etc/preforkd.conf \
	/usr/share/man/man8/preforkd.8.gz /usr/share/man/man5/preforkd.conf.5.gz \
	/etc/init.d/preforkd /etc/default/preforkd /etc/logrotate.d/preforkd \
	/var/log/preforkd/ /usr/share/doc/preforkd/copyright; do
	if grep -qxF "$path" "$listing"; then
		ok "contains $path"
	else
		fail "contains $path: missing from dpkg -c"
	fi
done
# The unit: /lib/systemd/system up to bookworm, /usr/lib/systemd/system since.
if grep -qxE '/(usr/)?lib/systemd/system/preforkd\.service' "$listing"; then
	ok "contains $(grep -xE '/(usr/)?lib/systemd/system/preforkd\.service' "$listing")"
else
	fail "contains /lib/systemd/system/preforkd.service: missing from dpkg -c"
fi

# The files an admin edits are conffiles (dpkg keeps their changes).
conffiles=$(dpkg-deb --info "$deb" conffiles 2>/dev/null)
for path in /etc/preforkd.conf /etc/init.d/preforkd /etc/default/preforkd \
	/etc/logrotate.d/preforkd; do
	if printf '%s\n' "$conffiles" | grep -qxF "$path"; then
		ok "conffile $path"
	else
		fail "conffile $path: not in the package's conffiles"
	fi
done

check "init script: sh -n etc/init.d/preforkd" sh -n "$root/etc/init.d/preforkd"
check "init script: executable" test -x "$root/etc/init.d/preforkd"
check "init script: LSB header" grep -q '^### BEGIN INIT INFO' \
	"$root/etc/init.d/preforkd"
unit=$(find "$root/lib/systemd/system" "$root/usr/lib/systemd/system" \
	-name preforkd.service 2>/dev/null | head -n 1)
check "unit: ExecStart runs /usr/sbin/preforkd" \
	grep -qE '^ExecStart=.*/usr/sbin/preforkd' "${unit:-/nonexistent}"
check "logrotate: mentions /var/log/preforkd" \
	grep -q '/var/log/preforkd' "$root/etc/logrotate.d/preforkd"
check "maintainer scripts: postinst enables the init script and the unit" \
	bash -c 'dpkg-deb --info "$1" postinst | grep -q "update-rc.d preforkd" &&
		dpkg-deb --info "$1" postinst | grep -q "deb-systemd-helper"' _ "$deb"

# lintian: errors fail; warnings are listed and tolerated.
if command -v lintian >/dev/null; then
	# (as root lintian says on stderr that it would rather not: ignored)
	lint=$(lintian --no-cfg "$deb" 2>"$tmp/lintian.err")
	lrc=$?
	errors=$(printf '%s\n' "$lint" | grep -c '^E: ')
	warnings=$(printf '%s\n' "$lint" | grep -c '^W: ')
	if [ "$errors" -eq 0 ] && [ $lrc -eq 0 ]; then
		ok "lintian: 0 errors, $warnings warnings"
		printf '%s\n' "$lint" | grep '^W: ' | sed 's/^/     | /'
	else
		fail "lintian: $errors errors, $warnings warnings (exit $lrc)"
		printf '%s\n' "$lint" | sed 's/^/     | /'
		sed 's/^/     | /' "$tmp/lintian.err"
	fi
else
	fail "lintian: not installed (apt-get install lintian)"
fi

if [ $failed -eq 0 ]; then
	echo "smoke test of $(basename "$deb"): all checks passed"
	exit 0
fi
echo "smoke test of $(basename "$deb"): $failed checks failed"
exit 1
