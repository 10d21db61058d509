import Sys

/// Where a command spends its time, step by step, for `--debug` (issue 14): each `mark` closes the step that
/// ran since the previous mark. Off, a mark is one branch; on, one clock read.
package struct PhaseTrace: Sendable {
    package struct Step: Sendable, Equatable {
        package var name: String
        package var nanoseconds: UInt64
        /// The init's own stages, under the parent step that waited for them.
        package var inner: [Step] = []
    }

    package let enabled: Bool
    package private(set) var steps: [Step] = []
    private let started: UInt64
    private var last: UInt64

    package init(enabled: Bool) {
        self.enabled = enabled
        started = enabled ? Clock.monotonicNanoseconds() : 0
        last = started
    }

    package mutating func mark(_ name: String, inner: [Step] = []) {
        guard enabled else { return }
        let now = Clock.monotonicNanoseconds()
        steps.append(Step(name: name, nanoseconds: now - last, inner: inner))
        last = now
    }

    /// Adds the steps another trace recorded (the launcher's, inside create's `spawn`), keeping the clock going.
    package mutating func append(_ other: PhaseTrace) {
        guard enabled else { return }
        steps += other.steps
        last = Clock.monotonicNanoseconds()
    }

    /// `8.12 ms: check 1.20, cgroups 0.50, init 5.00 (rootfs 4.00, ...), state 0.30`.
    package var summary: String {
        let total = (steps.last.map { _ in last } ?? started) - started
        return "\(Self.milliseconds(total)) ms: " + steps.map(Self.describe).joined(separator: ", ")
    }

    private static func describe(_ step: Step) -> String {
        let inner = step.inner.isEmpty ? "" : " (" + step.inner.map(describe).joined(separator: ", ") + ")"
        return "\(step.name) \(milliseconds(step.nanoseconds))\(inner)"
    }

    /// Two decimals, without Foundation's formatting.
    static func milliseconds(_ nanoseconds: UInt64) -> String {
        let hundredths = (nanoseconds + 5_000) / 10_000
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
