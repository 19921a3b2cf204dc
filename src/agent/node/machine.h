/* What the node agent reads from the machine: cpu and memory capacity, the filesystem of its
 * root dir, the ten nodeInfo fields and the node's addresses (cadvisor's MachineInfo and the
 * kubelet's nodestatus setters). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct agent_machine {
    int64_t milli_cpu;         /* online cpus × 1000 */
    int64_t memory;            /* MemTotal, bytes */
    int64_t ephemeral_storage; /* capacity of the filesystem holding the root dir, bytes */
    char machine_id[64];       /* /etc/machine-id */
    char system_uuid[64];      /* /sys/class/dmi/id/product_uuid ("" when the host has none) */
    char boot_id[64];          /* /proc/sys/kernel/random/boot_id */
    char kernel_version[128];  /* uname -r */
    char os_image[256];        /* PRETTY_NAME of /etc/os-release */
    char architecture[32];     /* GOARCH spelling: amd64, arm64, ... */
    char hostname[256];        /* lower-cased, as the kubelet's default node name */
};

/* Fills everything from the running host; root_dir must exist. */
int agent_machine_read(const char *root_dir, struct agent_machine *ret);

struct agent_fs_stats {
    int64_t capacity, available; /* bytes */
    int64_t inodes, inodes_free;
};
int agent_fs_stats(const char *path, struct agent_fs_stats *ret);
/* MemAvailable from /proc/meminfo, bytes. */
int agent_memory_available(int64_t *ret);

/* The node's InternalIP: the IPv4 address of the default route's interface, else the first
 * non-loopback IPv4 address, else 127.0.0.1. */
int agent_host_ip(char *out, size_t size);

/* "<name>://<version>" of an OCI runtime binary from `<bin> --version` ("runc://1.1.5+ds1");
 * -ENOENT when it cannot be run. */
int agent_runtime_version(const char *bin, char *out, size_t size);
