import Foundation
import Testing

@testable import Sys

/// `created` in state.json is computed without gmtime_r: it must agree with the C library's calendar everywhere.
@Suite struct ClockTests {
    @Test func rfc3339AgreesWithGmtimeAcrossEras() {
        var samples: [Int64] = [0, -1, 86_399, 86_400, 951_782_400, 951_868_800, 4_107_542_400, 1_780_000_000,
                                -2_208_988_800, 253_402_300_799, 1_709_164_800, 1_709_251_199]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {  // a fixed pseudo-random walk over ±2^35 seconds (years 881 to 3058)
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            samples.append(Int64(bitPattern: state >> 28) - (1 << 35))
        }
        for seconds in samples {
            var time = time_t(seconds)
            var parts = tm()
            gmtime_r(&time, &parts)
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.000000042Z", parts.tm_year + 1900,
                                  parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec)
            #expect(Clock.rfc3339(seconds: seconds, nanoseconds: 42) == expected, "\(seconds)")
        }
    }

    @Test func nowIsTodayInUTC() {
        let text = Clock.rfc3339Now()
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        #expect(text.hasPrefix(formatter.string(from: Date())) || text.hasPrefix(formatter.string(from: Date() - 5)))
        #expect(text.count == "2026-12-05T18:51:00.123456789Z".count)
    }
}
