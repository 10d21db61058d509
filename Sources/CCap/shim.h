#ifndef CRABCAN_CCAP_SHIM_H
#define CRABCAN_CCAP_SHIM_H
#include <sys/capability.h>
/* personality(2) and the PER_* values; declared without _GNU_SOURCE, so safe in a module header. */
#include <sys/personality.h>
#endif
