# the course's mq_client (cprogs/mq_client.c): one alone, then two at once
printf '/read\n/reg alice\n/read\n/msg alice hello me\n/read\n/all anyone?\n/readall\n/msg nobody x\n/reg bob\n/unr\n/read\n/exit\n' | $BIN/mq_client 2>&1
echo "exit=$?"
T=$(mktemp -d)
waitfor() {
    i=0
    until [ "$(grep -c "$1" "$2")" -ge "$3" ]; do
        i=$((i + 1))
        if [ $i -gt 3000 ]; then echo "timeout waiting for '$1' in $2"; return 1; fi
        sleep 0.1
    done
}
mkfifo $T/in
$BIN/mq_client < $T/in > $T/out 2>&1 &
pid=$!
exec 3> $T/in
echo '/reg alice' >&3
waitfor '^ok' $T/out 1
printf '/reg bob\n/msg alice hello alice\n/all to everyone\n/msg alice third\n/unr\n/exit\n' | $BIN/mq_client 2>&1
echo "exit=$?"
printf '/readall\n/unr\n' >&3
waitfor '^ok' $T/out 2
exec 3>&-
wait $pid
echo "alice exit=$?"
cat $T/out
rm -rf $T
