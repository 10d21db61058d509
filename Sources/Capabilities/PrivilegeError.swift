import OCISpec

/// Privilege settings are refused like any config problem, by JSON path.
package typealias PrivilegeError = ConfigProblem

