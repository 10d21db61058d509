extension Process {
    /// Decodes a process.json (`exec --process`): the `process` object of config.json on its own, with the
    /// same checks and JSON-path errors.
    package static func decode(_ bytes: [UInt8]) throws(SpecProblems) -> Process {
        try Spec.decodeDocument(bytes, Process.self, whenEmpty: "expected a process object")
    }
}
