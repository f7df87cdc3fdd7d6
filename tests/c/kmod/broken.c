/* does not build in a kernel: uses the C library */
#include <linux/module.h>
#include <linux/kernel.h>
MODULE_LICENSE("GPL");
static int __init broken_init(void)
{
	char line[] = "a b";
	printf("hello %s\n", strtok(line, " "));
	return 0;
}
module_init(broken_init);
