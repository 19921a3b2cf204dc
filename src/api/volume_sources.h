/* The members of a core/v1 VolumeSource, in the order kube-apiserver's validateVolumeSource
 * checks them: defaulting and validation both need to know which key of a volume is its
 * source. */
#pragma once

/* NULL-terminated. */
extern const char *const kos_volume_sources[];
