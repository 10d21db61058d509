import Sys

enum Output {
    static func write(_ bytes: [UInt8]) { StandardStreams.writeOut(bytes) }
    static func line(_ text: String) { write(Array((text + "\n").utf8)) }
}
