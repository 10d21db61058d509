/// The names this build recognizes in `process.capabilities`, for the features document.
package enum RecognizedCapabilities {
    /// In kernel number order, as runc lists them.
    package static let names: [String] = Names.capabilities.sorted { $0.value < $1.value }.map(\.key)
}
