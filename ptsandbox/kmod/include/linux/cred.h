/* nothing of <linux/cred.h> is modelled beyond what the headers it pulls in give */
#include <linux/kernel.h>
#include <linux/sched.h>
