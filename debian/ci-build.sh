#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# CI: builds the Debian package from the working tree and smoke-tests it.
#   debian/ci-build.sh [OUTDIR]          (from anywhere in the repository)
# Copies the files git knows of (tracked, and untracked ones not ignored, so
# uncommitted work is included and build outputs are not) into a temporary
# directory, runs "dpkg-buildpackage -us -uc -b" there, then
# debian/tests-smoke.sh on the .deb.  The .deb, .buildinfo and .changes land
# in OUTDIR (default build-deb/ in the repository, which git ignores); the
# last line printed is the .deb's path.  Exits non-zero on any failure.
#
# The package's "make check" is skipped (DEB_BUILD_OPTIONS=nocheck and the
# nocheck build profile): CI runs the whole test suite in its other steps.
# Works as root or not: Rules-Requires-Root is "no", so neither fakeroot
# nor sudo is needed.  Needs: dpkg-dev debhelper lintian git, plus the
# Build-Depends of debian/control (dpkg-buildpackage checks them first).
set -uo pipefail
export LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive

top=$(cd "$(dirname "$0")/.." && pwd) || exit 1
cd "$top" || exit 1
outdir=${1:-$top/build-deb}

die() { echo "ci-build: $*" >&2; exit 1; }

for tool in git dpkg-buildpackage dpkg-parsechangelog dh lintian; do
	command -v "$tool" >/dev/null ||
		die "$tool not found: apt-get install git dpkg-dev debhelper lintian"
done

version=$(dpkg-parsechangelog -S Version) || die "bad debian/changelog"
source=$(dpkg-parsechangelog -S Source) || die "bad debian/changelog"
upstream=${version%-*}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/preforkd-deb.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
src=$tmp/$source-$upstream

echo "== copying the source tree to $src"
# safe.directory: CI may run as root in a checkout owned by another user.
git -c safe.directory='*' ls-files -z --cached --others --exclude-standard \
	>"$tmp/files" || die "git ls-files failed (not a git checkout?)"
# Tracked files deleted in the working tree are not copied.
mkdir -p "$src" &&
	while IFS= read -r -d '' f; do
		[ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
	done <"$tmp/files" |
	tar --null --no-recursion -T - -cf - | tar -xf - -C "$src" ||
	die "copying the source tree failed"

echo "== dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=nocheck)"
export DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}"
export DEB_BUILD_PROFILES="nocheck ${DEB_BUILD_PROFILES:-}"
start=$(date +%s)
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 </dev/null; then
	tail -n 80 "$tmp/build.log"
	die "dpkg-buildpackage failed"
fi
echo "built in $(($(date +%s) - start)) s"
grep -E '^dpkg-deb: building package' "$tmp/build.log"

debs=("$tmp"/"${source}"_"${version}"_*.deb)
[ -f "${debs[0]}" ] || die "no .deb in $tmp"
deb=${debs[0]}

echo "== debian/tests-smoke.sh $(basename "$deb")"
"$top/debian/tests-smoke.sh" "$deb"
smoke=$?

mkdir -p "$outdir" || die "cannot create $outdir"
cp "$tmp"/*.deb "$tmp"/*.buildinfo "$tmp"/*.changes "$outdir"/ ||
	die "cannot copy the package to $outdir"
[ $smoke -eq 0 ] || die "smoke test failed"
echo "$outdir/$(basename "$deb")"
