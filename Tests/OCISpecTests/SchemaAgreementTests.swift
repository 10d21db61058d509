import Foundation
import Testing
import OCISpec

/// spec-schema/ describes what crabcan accepts: the schema validator and crabcan's decoder must agree on
/// every bundle under bundles/ (valid ones pass both; each invalid one fails both with the same JSON path).
@Suite struct SchemaAgreementTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func configs(under folder: String) -> [String] {
        let base = repository.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []
        return names.sorted().map { base.appendingPathComponent($0).appendingPathComponent("config.json").path }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }

    static let validConfigs = configs(under: "bundles")
    static let invalidConfigs = configs(under: "bundles/invalid")

    static var haveValidator: Bool {
        validate(["-c", "import jsonschema"]).status == 0
    }

    static func validate(_ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static let validator = repository.appendingPathComponent("spec-schema/validate.py").path

    @Test func thereAreBundlesToCheck() {
        #expect(Self.validConfigs.count >= 2)
        #expect(Self.invalidConfigs.count >= 6)
    }

    @Test(.enabled(if: haveValidator), arguments: validConfigs)
    func validBundlesPassSchemaAndDecoder(_ path: String) throws {
        let result = Self.validate([Self.validator, "config", path])
        #expect(result.status == 0, "\(result.output)")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(throws: Never.self) { try Spec.decode(bytes) }
    }

    @Test(.enabled(if: haveValidator), arguments: invalidConfigs)
    func invalidBundlesFailBothWithTheExpectedMessage(_ path: String) throws {
        let expected = try String(contentsOfFile: (path as NSString).deletingLastPathComponent + "/expected.txt", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let result = Self.validate([Self.validator, "config", path])
        #expect(result.status == 1)
        #expect(result.output.contains(expected), "schema said: \(result.output)")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        do {
            _ = try Spec.decode(bytes)
            Issue.record("decoder accepted \(path)")
        } catch {
            #expect(error.description.contains(expected), "decoder said: \(error.description)")
        }
    }
}
