/* Sub-commands of the kos binary. Each returns the process exit code. */
#pragma once

int cmd_server(int argc, char **argv);
int cmd_keystone_auth(int argc, char **argv);
int cmd_keystone_login(int argc, char **argv);
int cmd_image(int argc, char **argv);
/* Hidden: crictl-like debugging of the node's containers (src/cmd/ctr.c). */
int cmd_ctr(int argc, char **argv);
int cmd_ctr_pod(int argc, char **argv);
int cmd_agent(int argc, char **argv);
