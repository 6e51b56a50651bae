#!/bin/sh
# SPDX-License-Identifier: ISC
# Build everything and run kmsauthzd in the foreground on ./state (state
# directory and both sockets there), seeded from etc/example-bundle.json
# when the store is empty, from a fresh Debian 12 machine (as root).
# Ctrl-C (SIGINT) drains and stops it.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/deps.sh
sh scripts/build.sh "$top/_build/gcc" --enable-werror CC=gcc
ctl=$top/_build/gcc/src/ctl/kmsauthzctl
daemon=$top/_build/gcc/src/daemon/kmsauthzd
echo "== kmsauthzctl $("$ctl" version)"

state=$top/state
mkdir -p "$state"
q=$state/query.sock
a=$state/admin.sock
acct=1192853035118888
key=acs:kms:cn-hangzhou:$acct:key/key-hzz6304944631ejqjx0002
cat <<EOT
== kmsauthzd: state directory $state
   query socket $q, admin socket $a
== try, from another shell:
   $ctl ping --socket $q
   $ctl status --socket $q
   $ctl check --socket $q --principal acs:ram::$acct:user/alice \\
       --action kms:Decrypt --resource $key --explain
   $ctl check --socket $q --principal acs:ram::2222222222222222:user/eve \\
       --action kms:Decrypt --resource $key
== stop with Ctrl-C
EOT
exec "$daemon" -f -c "$top/etc/kmsauthzd.conf" -d "$state" -s "$q" -a "$a" \
    -o "seed_bundle=$top/etc/example-bundle.json" -o threads=2
