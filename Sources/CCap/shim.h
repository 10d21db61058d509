#ifndef CRABCAN_CCAP_SHIM_H
#define CRABCAN_CCAP_SHIM_H
#include <sys/capability.h>
#endif
