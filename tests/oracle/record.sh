#!/bin/bash
# Re-record what the real Linux 6.1 kernel does with the test modules:
# builds every module named below from tests/kmod/ with kbuild, the script
# client and the course clients with gcc, boots Debian 12's 6.1 kernel once
# (../shared/tools/oldkernel/run61.sh) and runs every script of
# tests/oracle/MODULE/ there. The results replace tests/oracle/MODULE/*.out
# and *.dmesg. Takes ~3 min on 2 cores in software emulation (boot ~25 s).
# Usage: tests/oracle/record.sh [MODULE...]    (default: every correct module)
#        tests/oracle/record.sh --buggy          (the one-bug variants, in the order
#        of buggy.order, least harmful first: an oops may wedge the VM; those
#        with a `novm` file are not run)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ORACLE=$ROOT/tests/oracle
KVER=6.1.0-57-amd64
RUN61=${RUN61:-/work/shared/tools/oldkernel/run61.sh}
TIMEOUT=600        # per script: the VM is software-emulated
MODULES=()
if [ "${1:-}" = --buggy ]; then
    TIMEOUT=120
    while read -r m; do [ -e "$ORACLE/$m/novm" ] || MODULES+=("$m"); done < "$ORACLE/buggy.order"
else
    MODULES=("$@")
fi
if [ ${#MODULES[@]} -eq 0 ]; then
    for d in "$ORACLE"/*/nodes; do
        d=$(dirname "$d")
        [ -e "$d/expect" ] || MODULES+=("$(basename "$d")")
    done
fi

[ -d /lib/modules/$KVER/build ] || "$RUN61" --setup-only
W=$(mktemp -d /tmp/oracle.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/bin" "$W/out"

CFLAGS="-Wall -O2 -pthread -I$ROOT/cprogs"
gcc $CFLAGS -o "$W/bin/kscript" "$ORACLE/kscript.c"
gcc $CFLAGS -o "$W/bin/message_sender" "$ROOT/cprogs/message_sender.c"
gcc $CFLAGS -o "$W/bin/message_reader" "$ROOT/cprogs/message_reader.c"
gcc $CFLAGS -I"$ROOT/cprogs/tau" -o "$W/bin/tau_message_sender" "$ROOT/cprogs/tau/message_sender.c"
gcc $CFLAGS -I"$ROOT/cprogs/tau" -o "$W/bin/tau_message_reader" "$ROOT/cprogs/tau/message_reader.c"
gcc $CFLAGS -o "$W/bin/joinchat" "$ROOT/cprogs/joinchat.c"
gcc $CFLAGS -o "$W/bin/mq_client" "$ROOT/cprogs/mq_client.c"

mkdir -p "$W/kmod"
for mod in "${MODULES[@]}"; do
    cp -r "$ROOT/tests/kmod/$mod" "$W/kmod/$mod"
    make -s -C /lib/modules/$KVER/build M="$W/kmod/$mod" modules > "$W/kmod/$mod/build.log" 2>&1 \
        || { cat "$W/kmod/$mod/build.log"; exit 1; }
done

start=$(date +%s)
# a VM wedged by an oops is cut off; what was recorded until then is kept
timeout $((TIMEOUT * ${#MODULES[@]} + 300)) \
    "$RUN61" --rwdir "$W/out" -- bash "$ORACLE/guest.sh" "$W" "$ORACLE" "$TIMEOUT" "${MODULES[@]}" || true
echo "record.sh: VM run took $(( $(date +%s) - start ))s"

missing=0
for mod in "${MODULES[@]}"; do
    if [ -d "$W/out/$mod" ]; then
        cp "$W/out/$mod"/* "$ORACLE/$mod/"
    else
        echo "record.sh: nothing recorded for $mod" >&2
        missing=1
    fi
done
echo "record.sh: recorded ${MODULES[*]} into tests/oracle/"
exit $missing
