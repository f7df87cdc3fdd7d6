# the course's 2019+ message_sender and message_reader (cprogs/tau/)
S=$BIN/tau_message_sender R=$BIN/tau_message_reader
$S /tmp/slot0 1 hello 2>&1; echo "exit=$?"
$R /tmp/slot0 1 2>&1; echo; echo "exit=$?"
$R /tmp/slot0 2 2>&1; echo "exit=$?"
$S /tmp/slot0 0 zero 2>&1; echo "exit=$?"
$S /tmp/slot0 2 '' 2>&1; echo "exit=$?"
$S /tmp/slot0 3 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789 2>&1; echo "exit=$?"
$S /tmp/slot1 1 other 2>&1; echo "exit=$?"
$R /tmp/slot1 1 2>&1; echo; echo "exit=$?"
$S /tmp/slot0 1 'hello again, longer' 2>&1; echo "exit=$?"
$R /tmp/slot0 1 2>&1; echo; echo "exit=$?"
$S /tmp/slot0 1 short 2>&1; echo "exit=$?"
$R /tmp/slot0 1 2>&1; echo; echo "exit=$?"
