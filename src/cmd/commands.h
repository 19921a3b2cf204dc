/* Sub-commands of the kos binary. Each returns the process exit code. */
#pragma once

int cmd_server(int argc, char **argv);
int cmd_agent(int argc, char **argv);
