#!/usr/bin/env bash
# Build the Debian minbase root filesystem tarball the image tests and bench/pull.ts use:
#   <user's home>/.cache/tspod-tests/debian-minbase.tar   (numeric owners, sorted names)
# debootstrap needs root (mknod, chown, chroot), so this runs as root before the tests
# (.ci/run does, locally: sudo bash test/setup/debian-minbase.sh tspodtest). A tarball
# already in the cache is kept, so only the first run downloads from the Debian mirror.
# A mirror that cannot be reached fails this script (and the tests that need the tarball).
set -euo pipefail
USER_NAME=${1:?usage: debian-minbase.sh TEST_USER [SUITE] [MIRROR]}
SUITE=${2:-bookworm}
MIRROR=${3:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || { echo "debian-minbase.sh: debootstrap must run as root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "debian-minbase.sh: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
USER_HOME=$(getent passwd "$USER_NAME" | cut -d: -f6)
[ -n "$USER_HOME" ] || { echo "debian-minbase.sh: no user $USER_NAME" >&2; exit 1; }
CACHE="$USER_HOME/.cache/tspod-tests"
OUT="$CACHE/debian-minbase.tar"
if [ -s "$OUT" ]; then
  echo "debian-minbase: cached at $OUT"
  exit 0
fi
install -d -o "$USER_NAME" -g "$(id -g "$USER_NAME")" "$USER_HOME/.cache" "$CACHE"
WORK=$(mktemp -d /var/tmp/tspod-minbase.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
echo "debian-minbase: debootstrap --variant=minbase $SUITE from $MIRROR"
if ! debootstrap --variant=minbase "$SUITE" "$WORK/rootfs" "$MIRROR" > "$WORK/debootstrap.log" 2>&1; then
  tail -n 30 "$WORK/debootstrap.log" >&2
  echo "debian-minbase.sh: debootstrap failed (is $MIRROR reachable?)" >&2
  exit 1
fi
# What a container image of Debian leaves out: downloaded packages and lists, device
# nodes (the engine provides /dev; rootless engines cannot create them anyway), logs.
rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/* \
  "$WORK"/rootfs/var/log/* "$WORK"/rootfs/debootstrap
find "$WORK/rootfs/dev" -mindepth 1 -delete
(cd "$WORK/rootfs" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | LC_ALL=C sort > "$WORK/top")
tar --create --file "$WORK/minbase.tar" --format=gnu --sort=name --numeric-owner --xattrs \
  --directory "$WORK/rootfs" --files-from "$WORK/top"
chown "$USER_NAME:" "$WORK/minbase.tar"
chmod 0644 "$WORK/minbase.tar"
mv "$WORK/minbase.tar" "$OUT"
echo "debian-minbase: $(du -h "$OUT" | cut -f1) at $OUT"
