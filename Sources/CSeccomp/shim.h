#ifndef CRABCAN_CSECCOMP_SHIM_H
#define CRABCAN_CSECCOMP_SHIM_H
#include <seccomp.h>
#endif
