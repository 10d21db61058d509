import Glibc
import OCISpec
import Sys

extension Runtime {
    /// `spec`: writes the default config.json into `bundle`, refusing to overwrite one (runc's behaviour).
    public static func writeDefaultSpec(bundle: String, rootless: Bool) throws {
        let path = bundle + "/config.json"
        if Files.lstatMode(path) != nil { throw RuntimeError("file \(path) exists, remove it first") }
        let spec = rootless ? rootlessDefaultSpec() : Spec.makeDefault(rootless: false)
        let bytes = spec.encode(pretty: true) + [0x0A]
        try Files.writeFile(path, bytes, mode: 0o644)
    }
}
