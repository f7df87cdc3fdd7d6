/* nothing of <linux/stringify.h> is modelled beyond what the headers it pulls in give */
#include <linux/kernel.h>
#include <linux/sched.h>
