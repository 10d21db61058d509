import JSON
import StateStore
import Sys

extension Runtime {
    package struct Summary: Sendable {
        package var id: String
        package var pid: Int32
        package var status: String
        package var bundle: String
        package var rootfs: String
        package var created: String
        package var owner: String
    }

    /// `list`: every container under the root, with derived status; unreadable entries are skipped.
    package func list() throws -> [Summary] {
        try ContainerDirectory.list(root: root).compactMap { id in
            guard let directory = try? self.directory(id), let snap = try? snapshot(directory) else { return nil }
            let record = snap.record
            return Summary(id: id, pid: snap.status == .stopped ? 0 : (record?.pid ?? 0), status: snap.status.rawValue,
                           bundle: record?.bundle ?? "", rootfs: record?.rootfs ?? "", created: record?.created ?? "", owner: record?.owner ?? "")
        }
    }

    /// runc's `list --format json`: an array of objects with these keys.
    package static func listJSON(_ summaries: [Summary]) -> [UInt8] {
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
