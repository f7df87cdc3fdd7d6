/* mq.h - definitions for the /dev/mq messaging device client.
 *
 * Commands are written to the device as text, one command per write():
 *   /reg NAME         register the caller under NAME (up to MQ_NAME_MAX-1 chars)
 *   /unr              unregister the caller
 *   /msg DEST TEXT    send TEXT to the registered process DEST
 *   /all TEXT         send TEXT to every other registered process
 * A read() returns the next queued message as "SENDER: TEXT".
 */
#ifndef MQ_H
#define MQ_H

#define MQ_DEVICE "/dev/mq"
#define MQ_NAME_MAX 8       /* names up to 7 characters + NUL */
#define MQ_CMD_MAX 256      /* the module's default CMD_BUF_SIZE */
#define MQ_MSG_MAX 256      /* largest message one read() returns */

#endif /* MQ_H */
