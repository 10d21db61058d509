/* What glibc's static start-up does for a program that loads shared objects, taken out of ours.
 *
 * _dl_non_dynamic_init, run by every static glibc program before main, records the executable's directory for
 * $ORIGIN in the run paths of libraries it might dlopen: a readlink of /proc/self/exe, whose path walk and d_path
 * were ~13 us of every crabcan command (perf, per `run`). crabcan dlopens nothing. Defined here, the static link
 * resolves glibc's reference to this and leaves libc.a's dl-origin.o (which holds only that function) out: the
 * origin reads as unknown ((char *) -1), exactly as when /proc is not mounted. A dynamic build (the tests) links
 * libc.so, whose loader keeps its own. */
const char *_dl_get_origin(void) { return (const char *) -1; }
