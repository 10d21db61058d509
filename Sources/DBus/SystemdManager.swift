import Sys

/// The few calls of systemd's org.freedesktop.systemd1.Manager API the cgroup driver needs, over one connection.
package final class SystemdManager {
    package let connection: DBusConnection
    static let destination = "org.freedesktop.systemd1"
    static let objectPath = "/org/freedesktop/systemd1"
    static let managerInterface = "org.freedesktop.systemd1.Manager"

    /// Where the manager listens, tried in order: the bus first, as runc's go-systemd does, then the manager's
    /// private socket (root without a bus daemon). Private-socket-first stalled create/delete for 25 s whenever
    /// systemd was ending a scope (4 of 6 deletes in the systemd guest; none through the bus).
    package static func endpoints(user: Bool, environment: [String]) -> [(path: String, isBus: Bool)] {
        func env(_ name: String) -> String? {
            environment.first { $0.hasBytePrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
        }
        if !user { return [("/run/dbus/system_bus_socket", true), ("/run/systemd/private", false)] }
        // The user's manager the same way: its session bus first (runc's only way), its private socket when the
        // user has no bus; private-first stalled rootless create and delete 25 s each in the systemd guest too.
        var result: [(String, Bool)] = []
        if let address = env("DBUS_SESSION_BUS_ADDRESS") {
            // "unix:path=/run/user/1000/bus[,guid=...]"; other transports are not spoken here.
            for part in address.split(separator: ";") where part.hasBytePrefix("unix:") {
                for kv in part.dropFirst(5).split(separator: ",") where kv.hasBytePrefix("path=") {
                    result.append((String(kv.dropFirst(5)), true))
                }
            }
        }
        if let xdg = env("XDG_RUNTIME_DIR"), xdg.hasBytePrefix("/") {
            result.append((xdg + "/bus", true))
            result.append((xdg + "/systemd/private", false))
        }
        return result
    }

    /// Connects to the first endpoint that answers and subscribes to job signals.
    package init(user: Bool, uid: UInt32, environment: [String]) throws {
        var failures: [String] = []
        for endpoint in Self.endpoints(user: user, environment: environment) where Files.exists(endpoint.path) {
            do {
                let c = try DBusConnection(path: endpoint.path, uid: uid, isBus: endpoint.isBus)
                if c.isBus {
                    try c.call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus",
                               member: "AddMatch", body: [.string("type='signal',sender='org.freedesktop.systemd1',"
                                   + "interface='org.freedesktop.systemd1.Manager',member='JobRemoved'")])
                }
                try c.call(destination: Self.destination, path: Self.objectPath, interface: Self.managerInterface, member: "Subscribe")
                connection = c
                return
            } catch {
                failures.append("\(error)")
            }
        }
        let which = user ? "the user's systemd manager" : "systemd"
        throw DBusError(failures.isEmpty ? "cannot reach \(which): no socket found" : "cannot reach \(which): " + failures.joined(separator: "; "))
    }

    func manager(_ member: String, _ body: [DBusValue] = []) throws(DBusError) -> [DBusValue] {
        try connection.call(destination: Self.destination, path: Self.objectPath, interface: Self.managerInterface,
                            member: member, body: body)
    }

    /// A string property of the manager ("Version", "ControlGroup").
    package func managerProperty(_ name: String) throws(DBusError) -> String {
        let reply = try connection.call(destination: Self.destination, path: Self.objectPath,
                                        interface: "org.freedesktop.DBus.Properties", member: "Get",
                                        body: [.string(Self.managerInterface), .string(name)])
        guard let value = reply.first?.stringValue else { throw DBusError("manager property \(name) is not a string") }
        return value
    }

    /// The leading number of systemd's version string ("252.38-1~deb12u1" → 252); 0 if unreadable.
    package func version() -> Int {
        guard let text = try? managerProperty("Version") else { return 0 }
        return Self.parseVersion(text)
    }

    package static func parseVersion(_ text: String) -> Int {
        Int(String(text.drop(while: { $0 == "v" || $0 == "\"" }).prefix(while: { $0.isNumber }))) ?? 0
    }

    /// StartTransientUnit(name, "replace", properties, no auxiliary units) → the job's object path.
    package func startTransientUnit(_ name: String, _ properties: [UnitProperty]) throws(DBusError) -> String {
        let reply = try manager("StartTransientUnit", [.string(name), .string("replace"), UnitProperty.array(properties),
                                                      .array(element: "(sa(sv))", [])])
        guard let job = reply.first?.stringValue else { throw DBusError("StartTransientUnit returned no job") }
        return job
    }

    package func stopUnit(_ name: String) throws(DBusError) -> String {
        guard let job = try manager("StopUnit", [.string(name), .string("replace")]).first?.stringValue else {
            throw DBusError("StopUnit returned no job")
        }
        return job
    }

    package func setUnitProperties(_ name: String, _ properties: [UnitProperty]) throws(DBusError) {
        _ = try manager("SetUnitProperties", [.string(name), .boolean(true), UnitProperty.array(properties)])
    }

    package func resetFailedUnit(_ name: String) throws(DBusError) {
        _ = try manager("ResetFailedUnit", [.string(name)])
    }

    /// Waits for JobRemoved(id, job, unit, result) of `job` and returns its result ("done", "failed", ...).
    package func waitForJob(_ job: String, timeoutMilliseconds: Int32 = 30_000) throws(DBusError) -> String {
        let signal = try connection.waitForSignal(timeoutMilliseconds: timeoutMilliseconds) { message in
            message.member == "JobRemoved" && message.interface == Self.managerInterface
                && message.body.count == 4 && message.body[1].stringValue == job
        }
        return signal.body[3].stringValue ?? ""
    }
}
