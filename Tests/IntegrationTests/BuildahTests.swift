import Foundation
import Testing

extension ClientAvailability {
    static let buildah: String? = {
        guard getuid() == 0 else { return "needs root" }
        if let podman { return podman }
        return Tools.find("buildah") == nil ? "buildah not installed (`make test` installs it with apt-get)" : nil
    }()
}

/// Issue 13: buildah runs the image's build steps with `--runtime <ClientRuntime>` (its OCI isolation), in the
/// storage of a Podman of ours (same --root/--runroot/containers.conf), so what it commits podman then runs, with
/// the same runtime.
extension CrabcanCLI {
    static let noBuildah = ClientAvailability.buildah

    /// `buildah <storage flags> arguments`, in the podman's storage, with its containers.conf and tmpdir.
    static func buildah(_ podman: Podman, _ arguments: [String], timeout: Double = 60) -> Result {
        let binary = Tools.find("buildah") ?? "/usr/bin/buildah"
        let (executable, wrapped) = Tools.onlyStdio("/usr/bin/env", [
            "CONTAINERS_CONF=" + podman.conf, "TMPDIR=" + podman.dir + "/tmp", binary,
            "--root", podman.dir + "/root", "--runroot", podman.dir + "/runroot", "--storage-driver", "overlay",
        ] + arguments)
        return Command.run(executable, wrapped, timeout: timeout)
    }

    /// `buildah run --runtime <ClientRuntime> --isolation oci --network none <flags> ctr -- command`.
    static func buildahRun(_ podman: Podman, _ container: String, _ command: [String], flags: [String] = []) -> Result {
        buildah(podman, ["run", "--runtime", ClientRuntime.path, "--isolation", "oci", "--network", "none"] + flags
                + [container, "--"] + command)
    }

    /// A working container from the offline image (an OCI archive, as `ctr images import` takes it).
    static func buildahFrom(_ podman: Podman) throws -> String {
        let from = buildah(podman, ["from", "--quiet", "oci-archive:" + (try ClientImage.path("image.tar"))])
        let container = try #require(from.stdoutLines.last, "\(from)")
        try #require(from.status == 0, "\(from)")
        return container
    }

    @Test(.disabled(if: noBuildah != nil, Comment(rawValue: noBuildah ?? "")))
    func buildahRunsBuildStepsWithTheRuntime() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let stateBefore = Self.runtimeStateDirs()
        let container = try Self.buildahFrom(podman)
        let echo = Self.buildahRun(podman, container, ["sh", "-c", "echo step one; id -u; hostname"])
        #expect(echo.status == 0 && echo.stdoutLines.first == "step one" && echo.stdoutLines.dropFirst().first == "0", "\(echo)")
        let exit = Self.buildahRun(podman, container, ["sh", "-c", "exit 3"])
        #expect(exit.status == 3, "a failed build step must fail the build: \(exit)")
        let user = Self.buildahRun(podman, container, ["sh", "-c", "id -u; pwd; echo $STEP"],
                                   flags: ["--user", "1000:1000", "--workingdir", "/home/user", "--env", "STEP=three"])
        #expect(user.status == 0 && user.stdout == "1000\n/home/user\nthree\n", "\(user)")
        let missing = Self.buildahRun(podman, container, ["/nonexistent"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent"), "\(missing)")
        #expect(Self.buildah(podman, ["rm", container]).status == 0)
        #expect(Tools.mounts(under: podman.dir).filter { $0.contains("/overlay/") && $0.hasSuffix("/merged") }.isEmpty,
                "a working container's rootfs is still mounted")
        #expect(Self.runtimeStateDirs() == stateBefore, "buildah run left runtime state behind")
    }

    /// The container state dirs under the default --root of ClientRuntime (buildah run passes none).
    static func runtimeStateDirs() -> Set<String> {
        Set(RuntimeRoot.containerEntries("/run/" + ClientRuntime.name))
    }

    @Test(.disabled(if: noBuildah != nil, Comment(rawValue: noBuildah ?? "")))
    func buildahCommitsWhatAStepWroteAndPodmanRunsIt() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let container = try Self.buildahFrom(podman)
        let write = Self.buildahRun(podman, container, ["sh", "-c", "mkdir -p /app && echo built by a step > /app/built.txt && chown 1000 /app/built.txt"])
        #expect(write.status == 0, "\(write)")
        #expect(Self.buildah(podman, ["config", "--cmd", "cat /app/built.txt", "--user", "1000", container]).status == 0)
        let image = "localhost/crabcan-built:test"
        let commit = Self.buildah(podman, ["commit", "--quiet", container, image])
        #expect(commit.status == 0, "\(commit)")
        #expect(Self.buildah(podman, ["rm", container]).status == 0)
        // The committed image under podman, with the same runtime: its default command, its user, the file.
        let run = podman.podman(["run", "--rm"] + Podman.runFlags + [image])
        #expect(run.status == 0 && run.stdout == "built by a step\n", "\(run)")
        let owner = podman.podman(["run", "--rm"] + Podman.runFlags + [image, "sh", "-c", "id -u; stat -c %u /app/built.txt"])
        #expect(owner.status == 0 && owner.stdout == "1000\n1000\n", "\(owner)")
    }
}
