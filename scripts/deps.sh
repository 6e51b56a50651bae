#!/bin/sh
# SPDX-License-Identifier: ISC
# Install the Debian 12 packages kmsauthz needs to build, test and run.
# Skips apt entirely when everything is already there.
set -e
PKGS="autoconf automake libtool pkg-config make gcc clang libclang-rt-14-dev
 libevent-dev libjson-c-dev liblmdb-dev lmdb-utils libsodium-dev libcmocka-dev
 util-linux procps python3 systemd strace mandoc stress-ng prometheus curl
 libpam0g-dev pamtester libpam-wrapper python3-pytest python3-pip
 python3-setuptools libssl-dev openssl etcd-server etcd-client"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
