/* message_slot.h - shared definitions for the message_slot module and its
 * user programs (message_sender, message_reader).
 *
 * The device keeps 4 channels of 128 bytes per device file; IOCTL_SET_CHANNEL
 * selects the channel (0..3) for the open file, the argument is the index
 * passed by value.
 */
#ifndef MESSAGE_SLOT_H
#define MESSAGE_SLOT_H

#include <linux/ioctl.h>

#define MAJOR_NUM 235

/* Set the Message Channel index of the open file (argument: the index). */
#define IOCTL_SET_CHANNEL _IOW(MAJOR_NUM, 0, unsigned long)

#define DEVICE_FILE_NAME "/dev/message_slot"
#define BUF_LEN 128
#define NUM_CHANNELS 4

#endif /* MESSAGE_SLOT_H */
