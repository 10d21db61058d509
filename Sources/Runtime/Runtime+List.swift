import JSON
import StateStore
import Sys

extension Runtime {
    public struct Summary: Sendable {
        public var id: String
        public var pid: Int32
        public var status: String
        public var bundle: String
        public var rootfs: String
        public var created: String
        public var owner: String
    }

    /// `list`: every container under the root, with derived status; unreadable entries are skipped.
    public func list() throws -> [Summary] {
        try ContainerDirectory.list(root: root).compactMap { id in
            guard let directory = try? self.directory(id), let snap = try? snapshot(directory) else { return nil }
            let record = snap.record
            return Summary(id: id, pid: snap.status == .stopped ? 0 : (record?.pid ?? 0), status: snap.status.rawValue,
                           bundle: record?.bundle ?? "", rootfs: record?.rootfs ?? "", created: record?.created ?? "", owner: record?.owner ?? "")
        }
    }

    /// runc's `list --format json`: an array of objects with these keys.
    public static func listJSON(_ summaries: [Summary]) -> [UInt8] {
        let writer = JSONWriter(pretty: false)
        writer.beginArray()
        for item in summaries {
            writer.beginObject()
            writer.field("ociVersion", Runtime.specVersion)
            writer.field("id", item.id)
            writer.field("pid", Int64(item.pid))
            writer.field("status", item.status)
            writer.field("bundle", item.bundle)
            writer.field("rootfs", item.rootfs)
            writer.field("created", item.created)
            writer.field("owner", item.owner)
            writer.endObject()
        }
        writer.endArray()
        return writer.bytes
    }
}
