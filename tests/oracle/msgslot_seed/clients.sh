# the course's message_sender and message_reader (cprogs/), seed form
S=$BIN/message_sender R=$BIN/message_reader
$S 0 'Hello zero' 2>&1; echo "exit=$?"
$S 3 Three 2>&1; echo "exit=$?"
$R 0 2>&1; echo "exit=$?"
$R 3 2>&1; echo "exit=$?"
$S 0 again 2>&1; echo "exit=$?"
$R 0 2>&1; echo "exit=$?"
$R 1 2>&1; echo "exit=$?"
$S 4 nope 2>&1; echo "exit=$?"
$R -1 2>&1; echo "exit=$?"
$S 2 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789xyz 2>&1; echo "exit=$?"
$R 2 2>&1; echo "exit=$?"
