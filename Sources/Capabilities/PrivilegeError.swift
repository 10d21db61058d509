import OCISpec

/// Privilege settings are refused like any config problem, by JSON path.
public typealias PrivilegeError = ConfigProblem

