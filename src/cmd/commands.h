/* Sub-commands of the kos binary. Each returns the process exit code. */
#pragma once

int cmd_server(int argc, char **argv);
int cmd_keystone_auth(int argc, char **argv);
int cmd_keystone_login(int argc, char **argv);
int cmd_image(int argc, char **argv);
