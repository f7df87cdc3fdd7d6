#!/bin/bash
# Runs inside the 6.1 VM (see record.sh): for every module and script, insmod
# the real .ko, make its nodes, run the script, rmmod, keep the module's dmesg.
# Usage: guest.sh WORKDIR ORACLEDIR TIMEOUT MODULE...
W=$1 ORACLE=$2 KSCRIPT_TIMEOUT=$3
shift 3
export BIN=$W/bin

for mod in "$@"; do
    ko=$(ls "$W"/kmod/"$mod"/*.ko)
    name=$(basename "$ko" .ko)
    mkdir -p "$W/out/$mod"
    for script in "$ORACLE/$mod"/*.ks "$ORACLE/$mod"/*.sh; do
        [ -e "$script" ] || continue
        base=$(basename "$script")
        out=$W/out/$mod/$base.out
        params=$(sed -n 's/^#! params: //p' "$script")
        dmesg -C
        # shellcheck disable=SC2086
        if ! insmod "$ko" $params; then
            echo "insmod failed" > "$out"
            dmesg -t > "$W/out/$mod/$base.dmesg"
            continue
        fi
        (cd /tmp && sh "$ORACLE/$mod/nodes") > "$out" 2>&1
        case $base in
        *.ks) (cd /tmp && timeout $KSCRIPT_TIMEOUT "$BIN/kscript" "$script") >> "$out" 2>&1
              echo "exit=$?" >> "$out" ;;
        *.sh) (cd /tmp && timeout $KSCRIPT_TIMEOUT sh "$script") >> "$out" 2>&1 ;;
        esac
        rm -f /dev/message_slot /tmp/ms1 /tmp/slot0 /tmp/slot1
        rmmod "$name" 2>/dev/null || echo "rmmod failed" >> "$out"
        sync
        # -t: the timestamps differ from run to run
        dmesg -t > "$W/out/$mod/$base.dmesg"
        echo "recorded $mod/$base"
    done
done
