import OCISpec
import Sys

/// blockIO: v1's blkio controller (weights, throttle files), v2's io controller (io.weight or io.bfq.weight, io.max).
enum BlockIO {
    static func problems(_ b: Resources.BlockIO) -> [ConfigProblem] {
        guard let w = b.weight, w != 0, !(10...1000).contains(w) else { return [] }
        return [ConfigProblem(".linux.resources.blockIO.weight", "must be between 10 and 1000, got \(w)")]
    }

    // MARK: v1

    static func applyV1(_ b: Resources.BlockIO, _ d: String) throws {
        // CFQ's blkio.weight is gone since 5.0; BFQ exposes blkio.bfq.weight instead (runc detectWeightFilenames).
        let bfq = Files.exists(d + "/blkio.bfq.weight")
        let weightFile = bfq ? "blkio.bfq.weight" : "blkio.weight"
        let weightDeviceFile = bfq ? "blkio.bfq.weight_device" : "blkio.weight_device"
        if let w = b.weight, w != 0 { try CgroupFiles.write(d, weightFile, String(w)) }
        if let w = b.leafWeight, w != 0 { try CgroupFiles.write(d, "blkio.leaf_weight", String(w)) }
        for wd in b.weightDevice {
            if let w = wd.weight, w != 0 { try CgroupFiles.write(d, weightDeviceFile, "\(wd.major):\(wd.minor) \(w)") }
            if let w = wd.leafWeight, w != 0 { try CgroupFiles.write(d, "blkio.leaf_weight_device", "\(wd.major):\(wd.minor) \(w)") }
        }
        for (devices, file) in [
            (b.throttleReadBpsDevice, "blkio.throttle.read_bps_device"), (b.throttleWriteBpsDevice, "blkio.throttle.write_bps_device"),
            (b.throttleReadIOPSDevice, "blkio.throttle.read_iops_device"), (b.throttleWriteIOPSDevice, "blkio.throttle.write_iops_device"),
        ] {
            for t in devices { try CgroupFiles.write(d, file, "\(t.major):\(t.minor) \(t.rate)") }
        }
    }

    /// CFQ/BFQ accounting when present, else the throttle layer's (runc's fallback order).
    static func statsV1(_ d: String) -> [CgroupStats.BlockIOEntry] {
        for file in ["blkio.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive"] {
            guard let text = try? CgroupFiles.read(d, file) else { continue }
            let entries = parseBlkio(text)
            if !entries.isEmpty || file.hasBytePrefix("blkio.throttle") { return entries }
        }
        return []
    }

    /// "8:0 Read 4096" lines; the closing "Total N" line has no device.
    static func parseBlkio(_ text: String) -> [CgroupStats.BlockIOEntry] {
        text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3, let value = UInt64(parts[2]) else { return nil }
            let dev = parts[0].split(separator: ":")
            guard dev.count == 2, let major = UInt64(dev[0]), let minor = UInt64(dev[1]) else { return nil }
            return CgroupStats.BlockIOEntry(major: major, minor: minor, op: String(parts[1]), value: value)
        }
    }

    // MARK: v2

    static func applyV2(_ b: Resources.BlockIO, _ d: String) throws {
        // BFQ's io.bfq.weight exists once the bfq scheduler is loaded and takes blkio.weight's range as is; runc
        // (fs2/io.go) uses it whenever it exists, else io.weight (blk-iocost) with the value converted.
        let bfq = Files.exists(d + "/io.bfq.weight")
        if let w = b.weight, w != 0 {
            if bfq {
                try CgroupFiles.write(d, "io.bfq.weight", String(w))
            } else {
                try CgroupFiles.write(d, "io.weight", String(CgroupConversions.ioWeight(blkioWeight: w)))
            }
        }
        // Per-device weights only BFQ has, and only since 5.4, whose file reads "default N" rather than a bare
        // number; elsewhere they are skipped as runc skips them.
        let perDevice = bfq && UInt64(trimmed((try? CgroupFiles.read(d, "io.bfq.weight")) ?? "")) == nil
        for wd in b.weightDevice where perDevice {
            if let w = wd.weight, w != 0 { try CgroupFiles.write(d, "io.bfq.weight", "\(wd.major):\(wd.minor) \(w)") }
        }
        // One io.max line per device with all of its limits.
        var order: [String] = []
        var limits: [String: [String]] = [:]
        for (devices, key) in [
            (b.throttleReadBpsDevice, "rbps"), (b.throttleWriteBpsDevice, "wbps"),
            (b.throttleReadIOPSDevice, "riops"), (b.throttleWriteIOPSDevice, "wiops"),
        ] {
            for t in devices {
                let dev = "\(t.major):\(t.minor)"
                if limits[dev] == nil { order.append(dev) }
                // rate 0 means "no limit" in v1; v2 spells it "max".
                limits[dev, default: []].append("\(key)=\(t.rate == 0 ? "max" : String(t.rate))")
            }
        }
        for dev in order { try CgroupFiles.write(d, "io.max", "\(dev) \(limits[dev]!.joinedText(" "))") }
    }

    /// io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"; rbytes and wbytes as v1's Read and Write.
    static func statsV2(_ d: String) -> [CgroupStats.BlockIOEntry]? {
        guard let text = try? CgroupFiles.read(d, "io.stat") else { return nil }
        var entries: [CgroupStats.BlockIOEntry] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard let first = parts.first else { continue }
            let dev = first.split(separator: ":")
            guard dev.count == 2, let major = UInt64(dev[0]), let minor = UInt64(dev[1]) else { continue }
            for kv in parts.dropFirst() {
                let pair = kv.split(separator: "=")
                guard pair.count == 2, let v = UInt64(pair[1]) else { continue }
                if pair[0] == "rbytes" { entries.append(.init(major: major, minor: minor, op: "Read", value: v)) }
                if pair[0] == "wbytes" { entries.append(.init(major: major, minor: minor, op: "Write", value: v)) }
            }
        }
        return entries
    }
}
