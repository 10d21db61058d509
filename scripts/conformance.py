#!/usr/bin/env python3
"""conformance.py RUNTIME EXPECTED [--update] — the runtime-spec validation suite against the expected list.

Runs ../shared/conformance/validate.sh (VALIDATE, from the Makefile) on RUNTIME and compares each file's outcome
with EXPECTED (Tests/Conformance/expected.txt): one line per file, `PASS name` or `FAIL name: reason`, or
`EITHER name: reason` for a file whose outcome is a race in the suite itself (both outcomes are accepted).
Any other outcome fails: a file that fails but is listed PASS, and a file that passes but is listed FAIL (so the
list is kept current), a file missing from the list or listed but gone from the suite.
--update rewrites EXPECTED from this run: reasons already written for files that still fail are kept; a new
failure gets the suite's first failing line, marked `suite:` until someone writes why.
"""
import os, re, subprocess, sys, time

# A host-dependent FAIL names what would make it pass: `FAIL name: host: ... [passes where PATH exists]`. Where
# PATH exists (a host with that cgroup controller mounted) the file is expected to PASS; elsewhere to FAIL.
CONDITION = re.compile(r"\[passes where (\S+) exists\]")

def host_expects(verdict, reason):
    """The verdict this host should give: a conditional FAIL turns PASS where its path exists (EITHER stays)."""
    m = CONDITION.search(reason or "")
    return "PASS" if verdict == "FAIL" and m and os.path.exists(m.group(1)) else verdict

def parse(lines):
    """{name: (PASS|FAIL|EITHER, reason)} from validate.sh's output or the expected list (comments and blanks
    skipped; validate.sh itself only says PASS or FAIL)."""
    out = {}
    for line in lines:
        line = line.rstrip("\n")
        if not line or line.startswith("#") or line.startswith("conformance:"):
            continue
        verdict, _, rest = line.partition(" ")
        if verdict not in ("PASS", "FAIL", "EITHER"):
            continue
        name, _, reason = rest.partition(": ")
        out[name.strip()] = (verdict, reason.strip())
    return out

def main():
    args = [a for a in sys.argv[1:] if a != "--update"]
    update = "--update" in sys.argv
    runtime, expected_path = args[0], args[1]
    validate = os.environ["VALIDATE"]
    started = time.monotonic()
    run = subprocess.run([validate, runtime, os.environ.get("CONFORMANCE_FILTER", ".")],
                         stdout=subprocess.PIPE, text=True, cwd="/tmp")
    seconds = time.monotonic() - started
    got = parse(run.stdout.splitlines())
    if not got:
        print(run.stdout, end="")
        print(f"conformance: the suite reported no file (exit {run.returncode})")
        return 2
    try:
        with open(expected_path) as f:
            lines = f.readlines()
        header = [l for l in lines if l.startswith("#")]
        expected = parse(lines)
    except FileNotFoundError:
        header, expected = [], {}
    passed = sum(1 for v, _ in got.values() if v == "PASS")
    conditional = sorted(n for n, (v, r) in expected.items() if n in got and v == "FAIL" and host_expects(v, r) == "PASS")
    summary = f"conformance: {passed} of {len(got)} files pass ({seconds:.0f} s)"
    if conditional:
        summary += f"; {len(conditional)} pass because this host has what they need ({', '.join(conditional)})"
    racy = sorted(f"{n} {got[n][0]}" for n, (v, _) in expected.items() if n in got and v == "EITHER")
    if racy:
        summary += f"; {len(racy)} racy in the suite, either outcome accepted ({', '.join(racy)})"

    if update:
        with open(expected_path, "w") as f:
            f.writelines(header)
            merged = dict(expected) if os.environ.get("CONFORMANCE_FILTER", ".") != "." else {}
            merged.update(got)
            for name in sorted(merged):
                verdict, why = merged[name]
                old = expected.get(name)
                if old and old[0] == "EITHER":
                    f.write(f"EITHER {name}: {old[1]}\n")  # a race stays a race whatever this run gave
                    continue
                if verdict == "PASS" and old and old[0] == "FAIL" and CONDITION.search(old[1]):
                    verdict, why = old  # passes here because this host has what the condition names
                if verdict == "PASS":
                    f.write(f"PASS {name}\n")
                else:
                    old = expected.get(name)
                    reason = old[1] if old and old[0] == "FAIL" and old[1] else f"suite: {why}"
                    f.write(f"FAIL {name}: {reason}\n")
        print(summary + f"; {expected_path} rewritten")
        return 0

    problems = []
    filtered = os.environ.get("CONFORMANCE_FILTER", ".") != "."
    for name in sorted(set(got) | set(expected)):
        if name not in got:
            if not filtered:
                problems.append(f"{name}: listed in {expected_path} but not run by the suite")
            continue
        verdict, why = got[name]
        if name not in expected:
            problems.append(f"{name}: {verdict} but not in {expected_path}" + (f" ({why})" if why else ""))
        elif expected[name][0] != "EITHER" and host_expects(*expected[name]) != verdict:
            if verdict == "PASS":
                problems.append(f"{name}: now PASSES but is listed FAIL ({expected[name][1]}): "
                                "update the list (make conformance-update)")
            else:
                problems.append(f"{name}: FAILS but is listed PASS: {why}")
    for p in problems:
        print(f"conformance: unexpected: {p}")
    print(summary + (f", {len(problems)} unexpected" if problems else ", as expected"))
    return 1 if problems else 0

if __name__ == "__main__":
    sys.exit(main())
