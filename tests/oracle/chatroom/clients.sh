# two unmodified joinchat clients (cprogs/joinchat.c): P2 waits, P1 talks and leaves
T=$(mktemp -d)
waitfor() {
    i=0
    until grep -q "$1" "$2"; do
        i=$((i + 1))
        if [ $i -gt 3000 ]; then echo "timeout waiting for '$1' in $2"; return 1; fi
        sleep 0.1
    done
}
mkfifo $T/in2
$BIN/joinchat P2 < $T/in2 > $T/out2 2>&1 &
p2=$!
exec 3> $T/in2
waitfor "You joined as P2" $T/out2
printf 'Hello P2!\nBye!\n' | $BIN/joinchat P1 > $T/out1 2>&1
echo "P1 exit=$?"
waitfor "P1 left" $T/out2
echo 'Bye!' >&3
exec 3>&-
wait $p2
echo "P2 exit=$?"
echo "--- P1"
cat $T/out1
echo "--- P2"
cat $T/out2
rm -rf $T
