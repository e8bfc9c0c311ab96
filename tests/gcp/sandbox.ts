/**
 * Runs a rendered startup script under bash in a sandbox: every path it writes is under a temporary
 * root (`CI_STARTUP_ROOT`), and the commands that would touch the machine or the cloud are stubs on
 * PATH that record each call. Secrets and the data disk appear after a chosen number of waits
 * (each stub `sleep` is one wait), so a test shows the script waits, retries and then starts the agent.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface SandboxOptions {
    /** Secret id → value, and after how many waits it has a version (0: from the start; absent: never). */
    readonly secrets: Readonly<Record<string, { readonly value: string; readonly after?: number }>>;
    /** Data disk name → after how many waits `/dev/disk/by-id/google-<name>` appears. */
    readonly disk?: { readonly name: string; readonly after: number };
    /** `agent-worker-number` of a multi-host slice (absent: metadata has none). */
    readonly worker?: number;
    /** Seconds the script may wait before giving up (CI_STARTUP_WAIT_SECONDS). */
    readonly waitSeconds?: number;
}

export interface SandboxRun {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
    /** Every stubbed command, one line each: `<command> <args>`. */
    readonly calls: string[];
    /** The sandbox root, to read what the script wrote (removed by `cleanup`). */
    readonly root: string;
    read(file: string): string;
    exists(file: string): boolean;
    cleanup(): void;
}

const STUBS: Record<string, string> = {
    // Secret Manager: `gcloud secrets versions access latest --project P --secret ID`.
    gcloud: `#!/bin/bash
echo "gcloud $*" >> "$SANDBOX/calls"
if [[ "$1 $2 $3" == "secrets versions access" ]]; then
  id=""; while [[ $# -gt 0 ]]; do [[ "$1" == "--secret" ]] && id="$2"; shift; done
  waits=$(cat "$SANDBOX/waits")
  if [[ -f "$SANDBOX/secrets/$id" ]] && (( waits >= $(cat "$SANDBOX/secrets/$id.after") )); then cat "$SANDBOX/secrets/$id"; exit 0; fi
  echo "ERROR: (gcloud.secrets.versions.access) NOT_FOUND: Secret Version [projects/p/secrets/$id/versions/latest] not found." >&2
  exit 1
fi
exit 0`,
    curl: `#!/bin/bash
echo "curl $*" >> "$SANDBOX/calls"
url="\${*: -1}"; out=""
while [[ $# -gt 0 ]]; do [[ "$1" == "-o" ]] && out="$2"; shift; done
case "$url" in
  *instance/attributes/agent-worker-number) [[ -f "$SANDBOX/worker" ]] && cat "$SANDBOX/worker" && exit 0; exit 22 ;;
  *instance/disks/1/device-name) echo persistent-disk-1; exit 0 ;;
  https://github.com/*) [[ -n "$out" ]] && printf '#!/bin/bash\\necho "buildkite-agent-metrics v5.5.0"\\n' > "$out"; exit 0 ;;
esac
exit 22`,
    sleep: `#!/bin/bash
echo "sleep $*" >> "$SANDBOX/calls"
waits=$(( $(cat "$SANDBOX/waits") + 1 )); echo "$waits" > "$SANDBOX/waits"
if [[ -f "$SANDBOX/disk" ]] && (( waits >= $(cat "$SANDBOX/disk.after") )); then
  mkdir -p "$CI_STARTUP_ROOT/dev/disk/by-id"; touch "$CI_STARTUP_ROOT/dev/disk/by-id/google-$(cat "$SANDBOX/disk")"
fi`,
    blkid: `#!/bin/bash
echo "blkid $*" >> "$SANDBOX/calls"
[[ -f "$SANDBOX/formatted" ]] || exit 2
[[ "$1" == "-s" ]] && echo 0b1d7e2c-0000-4000-8000-000000000001
exit 0`,
    "mkfs.ext4": `#!/bin/bash
echo "mkfs.ext4 $*" >> "$SANDBOX/calls"; touch "$SANDBOX/formatted"`,
    mountpoint: `#!/bin/bash
echo "mountpoint $*" >> "$SANDBOX/calls"; exit 1`,
    sudo: `#!/bin/bash
echo "sudo $*" >> "$SANDBOX/calls"
[[ "$1" == "-u" ]] && shift 2
"$@"`,
    "systemd-cat": `#!/bin/bash
cat > /dev/null`,
    "buildkite-agent": `#!/bin/bash
echo "buildkite-agent $*" >> "$SANDBOX/calls"`,
};
for (const command of ["systemctl", "systemd-run", "apt-get", "usermod", "chown", "mount", "docker", "gpg"]) {
    STUBS[command] = `#!/bin/bash\necho "${command} $*" >> "$SANDBOX/calls"`;
}

/** Runs `script` in a fresh sandbox. */
export function runInSandbox(script: string, options: SandboxOptions): SandboxRun {
    const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "startup-sandbox-"));
    const root = path.join(sandbox, "root");
    const bin = path.join(sandbox, "bin");
    for (const dir of [root, bin, path.join(sandbox, "secrets"), path.join(root, "etc")]) fs.mkdirSync(dir, { recursive: true });
    for (const [name, body] of Object.entries(STUBS)) fs.writeFileSync(path.join(bin, name), `${body}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(sandbox, "waits"), "0");
    fs.writeFileSync(path.join(sandbox, "calls"), "");
    for (const [id, secret] of Object.entries(options.secrets)) {
        fs.writeFileSync(path.join(sandbox, "secrets", id), secret.value);
        fs.writeFileSync(path.join(sandbox, "secrets", `${id}.after`), String(secret.after ?? 0));
    }
    if (options.disk) {
        fs.writeFileSync(path.join(sandbox, "disk"), options.disk.name);
        fs.writeFileSync(path.join(sandbox, "disk.after"), String(options.disk.after));
    }
    if (options.worker !== undefined) fs.writeFileSync(path.join(sandbox, "worker"), String(options.worker));
    const file = path.join(sandbox, "startup.sh");
    fs.writeFileSync(file, script, { mode: 0o755 });
    const run = spawnSync("bash", [file], {
        encoding: "utf8",
        timeout: 30_000,
        env: {
            PATH: `${bin}:/usr/bin:/bin`,
            SANDBOX: sandbox,
            CI_STARTUP_ROOT: root,
            CI_STARTUP_WAIT_SECONDS: String(options.waitSeconds ?? 1800),
            HOME: sandbox,
        },
    });
    return {
        status: run.status,
        stdout: run.stdout,
        stderr: run.stderr,
        calls: fs.readFileSync(path.join(sandbox, "calls"), "utf8").split("\n").filter((line) => line !== ""),
        root,
        read: (f) => fs.readFileSync(path.join(root, f), "utf8"),
        exists: (f) => fs.existsSync(path.join(root, f)),
        cleanup: () => fs.rmSync(sandbox, { recursive: true, force: true }),
    };
}

/** The findings of shellcheck on several scripts at once (one process), empty when clean. */
export function shellcheckFindings(scripts: readonly string[]): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shellcheck-"));
    try {
        const files = scripts.map((script, index) => {
            const file = path.join(dir, `script-${index}.sh`);
            fs.writeFileSync(file, script);
            return file;
        });
        const result = spawnSync("shellcheck", ["--shell=bash", ...files], { encoding: "utf8" });
        if (result.error) throw result.error;
        return result.status === 0 ? "" : result.stdout || result.stderr;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
