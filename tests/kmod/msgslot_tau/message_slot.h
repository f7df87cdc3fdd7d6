/* message_slot.h - message_slot definitions, 2019+ ("tau") variant.
 *
 * Channels are identified by any non-zero unsigned int id, per open file;
 * the device path is given on the command line. Messages are 1..BUF_LEN
 * bytes and are written/read atomically.
 */
#ifndef MESSAGE_SLOT_H
#define MESSAGE_SLOT_H

#include <linux/ioctl.h>

#define MAJOR_NUM 235

/* Set the channel id of the open file (argument: the id, by value). */
#define MSG_SLOT_CHANNEL _IOW(MAJOR_NUM, 0, unsigned int)

#define BUF_LEN 128

#endif /* MESSAGE_SLOT_H */
