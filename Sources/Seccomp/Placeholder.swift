// filled in by the seccomp work
