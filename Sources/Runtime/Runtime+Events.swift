import Cgroups
import Glibc
import JSON
import StateStore
import Sys

extension Runtime {
    /// `events --stats`: one stats event (runc's types/events.go shape), compact, without the newline.
    package func statsEvent(_ id: String) throws -> [UInt8] {
        let snap = try snapshot(try directory(id))
        guard let record = snap.record, snap.status != .stopped else { throw RuntimeError("container \(id) is not running") }
        guard let cgroups = Runtime.cgroups(record) else { throw RuntimeError("container \(id) has no cgroup to read") }
        return Runtime.statsEventJSON(id: id, try cgroups.stats())
    }

    /// `events`: a stats event every `intervalMilliseconds` until the container stops, each passed to `emit`,
    /// and an `oom` event (runc's `{"type":"oom","id":…}`) whenever the OOM killer struck since the last look.
    /// Returns once it has stopped (or is gone); an error only when it was never running.
    package func streamEvents(_ id: String, intervalMilliseconds: Int, emit: ([UInt8]) -> Void) throws {
        var first = true
        var oomKills: UInt64?
        var cgroups: CgroupManager?
        while true {
            // The OOM count is read before the stats: a kill that stops the container is still reported.
            if let count = cgroups?.oomKillCount() {
                if let seen = oomKills, count > seen { emit(Runtime.oomEventJSON(id: id)) }
                oomKills = count
            }
            let event: [UInt8]
            do {
                event = try statsEvent(id)
            } catch {
                // The first read reports the problem; later, the container stopping (or being deleted) ends the stream.
                if first { throw error }
                return
            }
            if first, let record = try directory(id).read() {
                cgroups = Runtime.cgroups(record)
                oomKills = cgroups?.oomKillCount()
            }
            first = false
            emit(event)
            Runtime.sleep(milliseconds: intervalMilliseconds)
        }
    }

    package static func oomEventJSON(id: String) -> [UInt8] {
        let w = JSONWriter(pretty: false)
        w.beginObject()
        w.key("type"); w.string("oom")
        w.key("id"); w.string(id)
        w.endObject()
        return w.bytes
    }

    static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while Glibc.nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }

    /// `{"type":"stats","id":...,"data":{cpu, memory, pids, blkio, hugetlb}}`, runc's field names.
    package static func statsEventJSON(id: String, _ s: CgroupStats) -> [UInt8] {
        let w = JSONWriter(pretty: false)
        w.beginObject()
        w.key("type"); w.string("stats")
        w.key("id"); w.string(id)
        w.key("data")
        w.beginObject()
        if let c = s.cpu {
            w.key("cpu")
            w.beginObject()
            w.key("usage")
            w.beginObject()
            w.key("total"); w.uint(c.total)
            w.key("percpu"); w.beginArray(); for n in c.perCPU { w.uint(n) }; w.endArray()
            w.key("kernel"); w.uint(c.kernel)
            w.key("user"); w.uint(c.user)
            w.endObject()
            w.counters("throttling", [("periods", c.periods), ("throttledPeriods", c.throttledPeriods), ("throttledTime", c.throttledTime)])
            w.endObject()
        }
        if let m = s.memory {
            w.key("memory")
            w.beginObject()
            w.key("cache"); w.uint(m.cache)
            for (name, data) in [("usage", m.usage), ("swap", m.swap), ("kernel", m.kernel), ("kernelTCP", m.kernelTCP)] {
                w.counters(name, [("limit", data.limit), ("usage", data.usage), ("max", data.maxUsage), ("failcnt", data.failcnt)])
            }
            w.key("raw")
            w.beginObject()
            for key in m.raw.keys.sorted() { w.key(key); w.uint(m.raw[key]!) }
            w.endObject()
            w.endObject()
        }
        if let p = s.pids {
            // runc reports an unlimited pids.max ("max") as 0.
            w.counters("pids", [("current", p.current), ("limit", p.limit == UInt64.max ? 0 : p.limit)])
        }
        w.key("blkio")
        w.beginObject()
        w.key("ioServiceBytesRecursive")
        w.beginArray()
        for e in s.ioServiceBytes {
            w.beginObject()
            w.key("major"); w.uint(e.major)
            w.key("minor"); w.uint(e.minor)
            w.key("op"); w.string(e.op)
            w.key("value"); w.uint(e.value)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.key("hugetlb")
        w.beginObject()
        for size in s.hugetlb.keys.sorted() {
            let h = s.hugetlb[size]!
            w.counters(size, [("usage", h.usage), ("max", h.maxUsage), ("failcnt", h.failcnt)])
        }
        w.endObject()
        w.endObject()
        w.endObject()
        return w.bytes
    }
}
