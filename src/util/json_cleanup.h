/* jansson cleanup helper: json_decref on scope exit (jansson 2.14 ships json_decrefp). */
#pragma once

#include <jansson.h>
#include "util/cleanup.h"

#define _cleanup_json_ _cleanup_(json_decrefp)
