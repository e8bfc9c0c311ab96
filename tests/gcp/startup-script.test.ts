import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { bashSyntaxErrors } from "./bash";
import { runInSandbox, shellcheckFindings } from "./sandbox";
import {
    agentTags,
    renderStartupScript,
    renderTemplate,
    shellQuote,
    type BuilderScriptVariables,
    type ExporterScriptVariables,
    type TpuScriptVariables,
} from "../../gcp/startup-script";

const common: BuilderScriptVariables = {
    QUEUE: "tpu_v7x_16_queue",
    AGENT_NAME: "tpu7x-16-ci-bk-0-cicd-us-central1-c",
    AGENT_TAGS: agentTags("tpu_v7x_16_queue", { hostname: "tpu7x-16-ci-bk-0-cicd-us-central1-c" }),
    SECRETS_PROJECT: "cloud-tpu-inference-test",
    AGENT_TOKEN_SECRET: "tpu_commons_buildkite_agent_token",
    HF_TOKEN_SECRET: "tpu_commons_buildkite_hf_token",
    ANALYTICS_TOKEN_SECRET: "tpu_commons_buildkite_analytics_token",
    REGISTRY_HOSTS: "us-central1-docker.pkg.dev us-docker.pkg.dev",
    AGENT_ENVIRONMENT: "TPU_VERSION=tpu7x",
    GITHUB_APP_ID: "4156238",
    GITHUB_APP_INSTALLATION_ID: "142868369",
    GITHUB_APP_PEM_SECRET: "GITHUB_CI_BOT_PEM",
};
const tpu: TpuScriptVariables = { ...common, DATA_DISK_NAME: "tpu7x-8-ci-0-test-us-central1-c-disk", SSH_KEY_SECRET: "", SSH_PUBLIC_KEY: "" };
const multiHost: TpuScriptVariables = { ...common, DATA_DISK_NAME: "", SSH_KEY_SECRET: "tpu7x-16-ci-bk-0-worker-ssh-key", SSH_PUBLIC_KEY: "ssh-ed25519 AAAAC3Nza key" };
const builder: BuilderScriptVariables = { ...common, QUEUE: "cpu-gcp", AGENT_NAME: "%hostname", AGENT_TAGS: "queue=cpu-gcp", ANALYTICS_TOKEN_SECRET: "", AGENT_ENVIRONMENT: "", GITHUB_APP_ID: "", GITHUB_APP_INSTALLATION_ID: "", GITHUB_APP_PEM_SECRET: "" };
const exporter: ExporterScriptVariables = { METRICS_VERSION: "5.5.0", METRICS_PROJECT: "cloud-ullm-inference-ci-cd", SECRETS_PROJECT: "cloud-tpu-inference-test", AGENT_TOKEN_SECRET: "tpu_commons_buildkite_agent_token" };

const TOKEN = "bkua_SANDBOX-AGENT-TOKEN-0f3c";
const secretsOf = (after: number, analytics = true) => ({
    tpu_commons_buildkite_agent_token: { value: TOKEN, after },
    tpu_commons_buildkite_hf_token: { value: "hf_SANDBOX", after },
    ...(analytics ? { tpu_commons_buildkite_analytics_token: { value: "an_SANDBOX", after } } : {}),
    "tpu7x-16-ci-bk-0-worker-ssh-key": { value: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n", after },
});
const index = (calls: string[], pattern: RegExp) => calls.findIndex((call) => pattern.test(call));

describe("startup scripts", () => {
    const rendered = [renderStartupScript("tpu", tpu), renderStartupScript("tpu", multiHost), renderStartupScript("builder", builder), renderStartupScript("exporter", exporter)];

    it("render for every kind, leave no placeholder, and pass bash -n and shellcheck", () => {
        for (const script of rendered) {
            assert.equal(bashSyntaxErrors(script), "");
            assert.doesNotMatch(script, /\{\{[A-Z_]+\}\}/, "no placeholder left");
        }
        assert.equal(shellcheckFindings(rendered), "");
    });

    it("catch a syntax error and a shellcheck finding (both checks can fail)", () => {
        assert.match(bashSyntaxErrors("#!/bin/bash\nif true; then\n  echo missing fi\n"), /syntax error/);
        assert.match(shellcheckFindings(["#!/bin/bash\nrm -rf $1/*\n"]), /SC2115|SC2086/);
    });

    it("never carry a secret value: only the names of the secrets they read at boot", () => {
        for (const script of rendered) assert.doesNotMatch(script, /bkua_|hf_[A-Za-z0-9]{20}/);
        assert.match(rendered[0], /^readonly AGENT_TOKEN_SECRET='tpu_commons_buildkite_agent_token'$/m);
    });

    it("wait for their secrets and the data disk, saying why, then configure and start the agent", () => {
        const run = runInSandbox(rendered[0], { secrets: secretsOf(2), disk: { name: tpu.DATA_DISK_NAME, after: 4 } });
        try {
            assert.equal(run.status, 0, run.stdout + run.stderr);
            assert.match(run.stdout, /secret tpu_commons_buildkite_agent_token \(project cloud-tpu-inference-test\): waiting 5s \(ERROR: \(gcloud\.secrets\.versions\.access\) NOT_FOUND/);
            assert.match(run.stdout, /secret tpu_commons_buildkite_agent_token \(project cloud-tpu-inference-test\): ready after 15s/);
            assert.match(run.stdout, /data disk tpu7x-8-ci-0-test-us-central1-c-disk: waiting \d+s \(neither .*google-tpu7x-8-ci-0-test-us-central1-c-disk nor a metadata device name \(persistent-disk-1\)/);
            assert.match(run.stdout, /buildkite-agent started/);
            // Configured only once everything is there: the format and the start come after every wait.
            const lastWait = run.calls.map((c) => c.startsWith("sleep ")).lastIndexOf(true);
            assert.ok(index(run.calls, /^mkfs\.ext4 .*google-tpu7x-8-ci-0-test-us-central1-c-disk$/) > lastWait, run.calls.join("\n"));
            assert.ok(index(run.calls, /^systemctl restart buildkite-agent$/) > lastWait);
            assert.equal(run.calls.filter((c) => c === "systemctl stop buildkite-agent").length, 1, "the agent is stopped before anything");
            assert.equal(run.read("etc/buildkite-agent/agent.env"), `BUILDKITE_AGENT_TOKEN=${TOKEN}\n`);
            assert.equal(run.exists("etc/buildkite-agent/secrets/agent-token"), false, "the token file is gone once in the env file");
            const hook = run.read("etc/buildkite-agent/hooks/environment");
            assert.match(hook, /BUILDKITE_ANALYTICS_TOKEN="\$\(cat \/etc\/buildkite-agent\/secrets\/analytics-token\)"/);
            assert.match(hook, /^export TPU_VERSION=tpu7x$/m);
            assert.doesNotMatch(hook, /SANDBOX/, "the hook reads files, it holds no value");
            assert.match(run.read("etc/buildkite-agent/buildkite-agent.cfg"), /^tags="queue=tpu_v7x_16_queue,hostname=tpu7x-16-ci-bk-0-cicd-us-central1-c"$/m);
            assert.match(run.read("etc/docker/daemon.json"), /"data-root": "\/mnt\/disks\/persist\/docker"/);
            assert.match(run.read("etc/fstab"), /^UUID=0b1d7e2c-\S+ \/mnt\/disks\/persist ext4 discard,defaults,nofail 0 2$/m);
            assert.match(run.read("etc/buildkite-agent/git-credential-github-app"), /installation='142868369'/);
            assert.doesNotMatch(run.stdout + run.stderr, /bkua_|hf_SANDBOX|an_SANDBOX/, "no secret value in the logs");
        } finally {
            run.cleanup();
        }
    });

    it("give up after their bound, without configuring the agent, and arm a retry", () => {
        const run = runInSandbox(rendered[0], { secrets: {}, disk: { name: tpu.DATA_DISK_NAME, after: 0 }, waitSeconds: 40 });
        try {
            assert.equal(run.status, 1, run.stdout + run.stderr);
            assert.match(run.stdout, /secret tpu_commons_buildkite_agent_token \(project cloud-tpu-inference-test\): still not ready after \d+s .*giving up until the next try/);
            assert.match(run.stdout, /the agent is not configured: retrying in 10 minutes/);
            assert.ok(run.calls.some((c) => /^systemd-run --on-active=600 .*google_metadata_script_runner startup$/.test(c)));
            assert.ok(!run.calls.includes("systemctl restart buildkite-agent"), "no agent without its token");
            assert.equal(run.exists("etc/buildkite-agent/agent.env"), false);
            const waits = run.calls.filter((c) => c.startsWith("sleep ")).length;
            assert.ok(waits >= 3 && waits <= 6, `bounded: ${waits} waits`);
        } finally {
            run.cleanup();
        }
    });

    it("start no agent on the other workers of a multi-host slice, which still accept its key", () => {
        const run = runInSandbox(rendered[1], { secrets: secretsOf(0), worker: 1 });
        try {
            assert.equal(run.status, 0, run.stdout + run.stderr);
            assert.ok(!run.calls.includes("systemctl restart buildkite-agent"));
            assert.ok(run.calls.includes("systemctl disable --now buildkite-agent"));
            assert.match(run.read("var/lib/buildkite-agent/.ssh/authorized_keys"), /^ssh-ed25519 AAAAC3Nza key$/m);
            assert.match(run.read("var/lib/buildkite-agent/.ssh/id_ed25519"), /OPENSSH PRIVATE KEY/);
        } finally {
            run.cleanup();
        }
        const first = runInSandbox(rendered[1], { secrets: secretsOf(0), worker: 0 });
        try {
            assert.ok(first.calls.includes("systemctl restart buildkite-agent"), first.stdout);
        } finally {
            first.cleanup();
        }
    });

    it("start a builder's agent once its two secrets exist (an organization without analytics token reads none)", () => {
        const run = runInSandbox(rendered[2], { secrets: secretsOf(1, false) });
        try {
            assert.equal(run.status, 0, run.stdout + run.stderr);
            assert.ok(!run.calls.some((c) => /--secret tpu_commons_buildkite_analytics_token/.test(c)));
            assert.doesNotMatch(run.read("etc/buildkite-agent/hooks/environment"), /ANALYTICS/);
            assert.ok(run.calls.includes("sudo -u buildkite-agent gcloud auth configure-docker us-docker.pkg.dev --quiet"));
            assert.ok(run.calls.includes("systemctl restart buildkite-agent"));
        } finally {
            run.cleanup();
        }
    });

    it("start the metrics exporter with the token in a root-only environment file, not on its command line", () => {
        const run = runInSandbox(rendered[3], { secrets: secretsOf(1) });
        try {
            assert.equal(run.status, 0, run.stdout + run.stderr);
            const unit = run.read("etc/systemd/system/bk-metrics.service");
            assert.match(unit, /^ExecStart=\/usr\/local\/bin\/buildkite-agent-metrics -backend stackdriver -stackdriver-projectid cloud-ullm-inference-ci-cd -interval 15s$/m);
            assert.doesNotMatch(unit, /bkua_/);
            assert.equal(run.read("etc/bk-metrics.env"), `BUILDKITE_AGENT_TOKEN=${TOKEN}\n`);
            assert.ok(run.calls.includes("systemctl restart bk-metrics"));
            assert.ok(run.calls.some((c) => /^curl .*buildkite-agent-metrics\/releases\/download\/v5\.5\.0\//.test(c)));
        } finally {
            run.cleanup();
        }
    });

    it("quote values so none can run code", () => {
        assert.equal(shellQuote("a'b"), `'a'\\''b'`);
        const script = renderTemplate("#!/bin/bash\nreadonly X={{X}}\necho \"$X\"\n", { X: "$(touch /tmp/pwned) ' ; rm -rf /" });
        const run = spawnSync("bash", ["-c", script], { encoding: "utf8" });
        assert.equal(run.stdout, "$(touch /tmp/pwned) ' ; rm -rf /\n");
    });

    it("refuse a template placeholder without a value, and a value the template does not use", () => {
        assert.throws(() => renderTemplate("A={{A}} B={{B}}", { A: "1" }), /no value for B/);
        assert.throws(() => renderTemplate("A={{A}}", { A: "1", C: "2" }), /C not used by the template/);
    });
});
