import JSON

extension Process {
    /// Decodes a process.json (`exec --process`): the `process` object of config.json on its own, with the
    /// same checks and JSON-path errors.
    public static func decode(_ bytes: [UInt8]) throws(SpecProblems) -> Process {
        let document: JSONDocument
        do {
            document = try JSONDocument.parse(bytes)
        } catch {
            var syntax = error
            syntax.message = "invalid JSON: " + error.message
            throw SpecProblems(problems: [syntax])
        }
        let context = JSONDecodingContext(document: document)
        let process = Process(json: context.root)
        guard let process, context.problems.isEmpty else {
            throw SpecProblems(problems: context.problems.isEmpty ? [JSONError(message: "expected a process object")] : context.problems)
        }
        return process
    }
}
