#ifndef CRABCAN_CSECCOMP_SHIM_H
#define CRABCAN_CSECCOMP_SHIM_H
#include <stdint.h>
#include <seccomp.h>

/* Swift cannot import function-like macros (docs/design.md §5), so the action encodings libseccomp
   defines as macros are re-exported as inline functions; the plain ones too, for one naming scheme. */
static inline uint32_t crabcan_scmp_act_kill_thread(void) { return SCMP_ACT_KILL_THREAD; }
static inline uint32_t crabcan_scmp_act_kill_process(void) { return SCMP_ACT_KILL_PROCESS; }
static inline uint32_t crabcan_scmp_act_trap(void) { return SCMP_ACT_TRAP; }
static inline uint32_t crabcan_scmp_act_errno(uint32_t e) { return SCMP_ACT_ERRNO(e); }
static inline uint32_t crabcan_scmp_act_trace(uint32_t e) { return SCMP_ACT_TRACE(e); }
static inline uint32_t crabcan_scmp_act_allow(void) { return SCMP_ACT_ALLOW; }
static inline uint32_t crabcan_scmp_act_log(void) { return SCMP_ACT_LOG; }
static inline uint32_t crabcan_scmp_act_notify(void) { return SCMP_ACT_NOTIFY; }

/* __NR_SCMP_ERROR: what seccomp_syscall_resolve_name returns for a name libseccomp does not know. */
static inline int crabcan_scmp_nr_error(void) { return __NR_SCMP_ERROR; }

/* Builds one argument comparison without Swift spelling the C struct's layout. */
static inline struct scmp_arg_cmp crabcan_scmp_arg(unsigned int index, enum scmp_compare op, uint64_t a, uint64_t b) {
    struct scmp_arg_cmp c = { .arg = index, .op = op, .datum_a = a, .datum_b = b };
    return c;
}
#endif
