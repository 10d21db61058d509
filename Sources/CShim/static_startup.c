/* What glibc's static start-up does for a program that loads shared objects, or asks the CPU about its caches,
 * taken out of ours (docs/performance.md, "glibc's start-up without its cpuid probes").
 *
 * _dl_non_dynamic_init, run by every static glibc program before main, records the executable's directory for
 * $ORIGIN in the run paths of libraries it might dlopen: a readlink of /proc/self/exe, whose path walk and d_path
 * were ~13 us of every crabcan command (perf, per `run`). crabcan dlopens nothing. Defined here, the static link
 * resolves glibc's reference to this and leaves libc.a's dl-origin.o (which holds only that function) out: the
 * origin reads as unknown ((char *) -1), exactly as when /proc is not mounted. A dynamic build (the tests) links
 * libc.so, whose loader keeps its own. */
#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>

const char *_dl_get_origin(void) { return (const char *) -1; }

/* The static binary's __libc_start_main, without the 68 `cpuid`s glibc 2.36 runs in it to record the CPU's
 * features and cache sizes: each exits the VM (~1.2 us here), ~65 us of every crabcan process. The release link
 * passes --wrap=__libc_start_main, so crt1.o's _start enters __wrap___libc_start_main; everything else is glibc's
 * own start-up, called in the order libc-start.o calls it (objdump of Debian's 2.36 libc.a):
 *   the environment and stack end, the auxiliary vector, tunables, [cpu features and cache sizes: skipped],
 *   IRELATIVE relocations, TLS, the stack protector's canary and the pointer guard, libc's early and first
 *   initialisation, call_fini registered, the standard fds of a set-id program, the init arrays, the debugger's
 *   r_debug, then main and exit.
 * With the features left zero, every IFUNC resolver picks glibc's baseline (SSE2) routine, which is correct on any
 * x86-64; the two thresholds those routines read that have no static default are set from the default cache size.
 * The canary and the pointer guard are made from AT_RANDOM exactly as glibc makes them (the tests read them from a
 * running crabcan: StaticStartupTests). Any other glibc, any other architecture, or a dynamic link (where the
 * internals below are absent and resolve to null) goes through glibc's own start-up. */
extern int __real___libc_start_main(int (*main)(int, char **, char **), int argc, char **argv, void (*init)(void),
                                    void (*fini)(void), void (*rtld_fini)(void), void *stack_end) __attribute__((weak));

#if !defined(__x86_64__)
/* Elsewhere the wrapped symbol is glibc's start-up itself (the guards' places in the TCB are x86-64's). */
int __wrap___libc_start_main(int (*main)(int, char **, char **), int argc, char **argv, void (*init)(void),
                             void (*fini)(void), void (*rtld_fini)(void), void *stack_end) {
    return __real___libc_start_main(main, argc, argv, init, fini, rtld_fini, stack_end);
}
#else
extern const char *gnu_get_libc_version(void);
extern char **__environ;
extern void *__libc_stack_end __attribute__((weak));
extern int __libc_enable_secure __attribute__((weak));
extern void *_dl_random __attribute__((weak));
extern long int __x86_shared_cache_size __attribute__((weak));
extern long int __x86_shared_non_temporal_threshold __attribute__((weak));
extern long int __x86_rep_movsb_stop_threshold __attribute__((weak));
extern void _dl_aux_init(ElfW(auxv_t) *auxv) __attribute__((weak));
extern void __tunables_init(char **env) __attribute__((weak));
extern void _dl_relocate_static_pie(void) __attribute__((weak));
extern void __libc_setup_tls(void) __attribute__((weak));
extern void __libc_early_init(_Bool initial) __attribute__((weak));
extern void __libc_init_first(int argc, char **argv, char **env) __attribute__((weak));
extern void __libc_check_standard_fds(void) __attribute__((weak));
extern void *_dl_debug_initialize(ElfW(Addr) ldbase, long ns) __attribute__((weak));
extern int __cxa_atexit(void (*function)(void *), void *argument, void *dso_handle);
extern void exit(int status) __attribute__((noreturn));
extern const ElfW(Rela) __rela_iplt_start[] __attribute__((weak));
extern const ElfW(Rela) __rela_iplt_end[] __attribute__((weak));
extern void (*__preinit_array_start[])(int, char **, char **) __attribute__((weak));
extern void (*__preinit_array_end[])(int, char **, char **) __attribute__((weak));
extern void (*__init_array_start[])(int, char **, char **) __attribute__((weak));
extern void (*__init_array_end[])(int, char **, char **) __attribute__((weak));
extern void (*__fini_array_start[])(void) __attribute__((weak));
extern void (*__fini_array_end[])(void) __attribute__((weak));
extern void _init(void) __attribute__((weak));
extern void _fini(void) __attribute__((weak));

/* glibc's call_fini: the fini array backwards, then _fini. */
static void run_fini_array(void *unused) {
    (void) unused;
    for (size_t i = (size_t) (__fini_array_end - __fini_array_start); i-- > 0;) (*__fini_array_start[i])();
    if (_fini) _fini();
}

/* This libc.a is the one whose start-up is mirrored above, and every part of it is linked in. Runs before
 * IRELATIVE relocations and TLS, so it calls no IFUNC (strcmp) and touches no thread-local state. */
__attribute__((no_stack_protector)) static int mirrors_this_libc(void) {
    const char *version = gnu_get_libc_version();
    const char expected[] = "2.36";
    for (size_t i = 0; i < sizeof expected; i++) {
        if (version[i] != expected[i]) return 0;
    }
    return __real___libc_start_main && &__libc_stack_end && &__libc_enable_secure && &_dl_random
        && &__x86_shared_cache_size && &__x86_shared_non_temporal_threshold && &__x86_rep_movsb_stop_threshold
        && _dl_aux_init && __tunables_init && _dl_relocate_static_pie && __libc_setup_tls && __libc_early_init
        && __libc_init_first && __libc_check_standard_fds && _dl_debug_initialize && _init;
}

/* No stack protector: the canary is set here, after TLS exists. */
__attribute__((no_stack_protector)) int __wrap___libc_start_main(
    int (*main)(int, char **, char **), int argc, char **argv, void (*init)(void), void (*fini)(void),
    void (*rtld_fini)(void), void *stack_end) {
    if (!mirrors_this_libc()) return __real___libc_start_main(main, argc, argv, init, fini, rtld_fini, stack_end);
    char **env = &argv[argc + 1];
    __environ = env;
    __libc_stack_end = stack_end;
    char **after = env;
    while (*after++ != NULL) {}
    _dl_aux_init((ElfW(auxv_t) *) after);
    __tunables_init(__environ);
    /* What init_cacheinfo derives from the shared cache size, which keeps its static default (1 MiB). */
    __x86_shared_non_temporal_threshold = __x86_shared_cache_size * 3 / 4;
    __x86_rep_movsb_stop_threshold = __x86_shared_non_temporal_threshold;
    _dl_relocate_static_pie();
    for (const ElfW(Rela) *r = __rela_iplt_start; r < __rela_iplt_end; ++r) {
        if (ELF64_R_TYPE(r->r_info) != R_X86_64_IRELATIVE) __builtin_trap();
        ElfW(Addr) (*resolver)(void) = (ElfW(Addr) (*)(void)) r->r_addend;
        *(ElfW(Addr) *) r->r_offset = resolver();
    }
    __libc_setup_tls();
    /* _dl_setup_stack_chk_guard and _dl_setup_pointer_guard: AT_RANDOM's first word with its low byte zeroed
       (a string overflow cannot write the canary back), and its second word; tcbhead_t's stack_guard and
       pointer_guard. */
    uintptr_t canary, pointer_guard;
    __builtin_memcpy(&canary, _dl_random, sizeof canary);
    canary &= ~(uintptr_t) 0xff;
    __builtin_memcpy(&pointer_guard, (const char *) _dl_random + sizeof canary, sizeof pointer_guard);
    __asm__ volatile("movq %0, %%fs:0x28" : : "r"(canary) : "memory");
    __asm__ volatile("movq %0, %%fs:0x30" : : "r"(pointer_guard) : "memory");
    if (rtld_fini) __cxa_atexit((void (*)(void *)) rtld_fini, NULL, NULL);
    __libc_early_init(1);
    __libc_init_first(argc, argv, __environ);
    __cxa_atexit(run_fini_array, NULL, NULL);
    if (__libc_enable_secure) __libc_check_standard_fds();
    for (size_t i = 0; i < (size_t) (__preinit_array_end - __preinit_array_start); i++) {
        (*__preinit_array_start[i])(argc, argv, __environ);
    }
    _init();
    for (size_t i = 0; i < (size_t) (__init_array_end - __init_array_start); i++) {
        (*__init_array_start[i])(argc, argv, __environ);
    }
    _dl_debug_initialize(0, 0);
    exit(main(argc, argv, __environ));
}
#endif
