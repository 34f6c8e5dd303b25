/* Commands still being built in this session (removed as each lands). */
#include <stdio.h>

#include "agent/cli.h"

#define STUB(name)                                                              \
	int name(struct cli *c, int argc, char **argv)                          \
	{                                                                       \
		(void)c; (void)argc;                                            \
		fprintf(stderr, "posagent: %s is not built yet\n", argv[0]);    \
		return 1;                                                       \
	}
