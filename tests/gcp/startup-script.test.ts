import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { bashSyntaxErrors } from "./bash";
import { agentTags, renderStartupScript, renderTemplate, shellQuote, type BuilderScriptVariables, type TpuScriptVariables } from "../../gcp/startup-script";

const tpu: TpuScriptVariables = {
    QUEUE: "tpu_v7x_16_queue",
    AGENT_NAME: "tpu-v7x-16-queue-0",
    AGENT_TAGS: agentTags("tpu_v7x_16_queue", { "tpu-type": "tpu7x-16" }),
    SECRETS_PROJECT: "vllm-ci",
    AGENT_TOKEN_SECRET: "bk-agent-token-cluster-ci",
    HF_TOKEN_SECRET: "hf-token",
    ANALYTICS_TOKEN_SECRET: "buildkite-analytics-token",
    DATA_DISK_DEVICE: "/dev/disk/by-id/google-persistent-disk-1",
    SSH_KEY_SECRET: "tpu-v7x-16-queue-worker-ssh-key",
    SSH_PUBLIC_KEY: "ssh-ed25519 AAAAC3Nza key",
};
const builder: BuilderScriptVariables = {
    QUEUE: "cpu-gcp",
    AGENT_NAME: "%hostname",
    AGENT_TAGS: agentTags("cpu-gcp"),
    SECRETS_PROJECT: "vllm-ci",
    AGENT_TOKEN_SECRET: "bk-agent-token-cluster-ci",
    HF_TOKEN_SECRET: "hf-token",
    ANALYTICS_TOKEN_SECRET: "buildkite-analytics-token",
    DATA_DISK_DEVICE: "",
    REGISTRY_HOST: "us-central1-docker.pkg.dev",
};

describe("startup scripts", () => {
    it("render for every kind and pass bash -n", () => {
        for (const script of [renderStartupScript("tpu", tpu), renderStartupScript("tpu", { ...tpu, SSH_KEY_SECRET: "", SSH_PUBLIC_KEY: "", DATA_DISK_DEVICE: "" }), renderStartupScript("builder", builder)]) {
            assert.equal(bashSyntaxErrors(script), "");
            assert.doesNotMatch(script, /\{\{[A-Z_]+\}\}/, "no placeholder left");
        }
    });

    it("catch a syntax error (bash -n can fail)", () => {
        assert.match(bashSyntaxErrors("#!/bin/bash\nif true; then\n  echo missing fi\n"), /syntax error/);
    });

    it("set the agent name and the queue tag first", () => {
        const script = renderStartupScript("tpu", tpu);
        assert.match(script, /^readonly AGENT_NAME='tpu-v7x-16-queue-0'$/m);
        assert.match(script, /^readonly AGENT_TAGS='queue=tpu_v7x_16_queue,tpu-type=tpu7x-16'$/m);
        assert.match(script, /^tags="\$\{tags\}"$/m);
    });

    it("do what every agent needs: Docker on the data disk, daily cleanup, bounded logs, tokens read at boot", () => {
        for (const script of [renderStartupScript("tpu", tpu), renderStartupScript("builder", builder)]) {
            assert.match(script, /"data-root": "\$\{data_root\}"/);
            assert.match(script, /OnCalendar=daily/);
            assert.match(script, /SystemMaxUse=1G/);
            assert.match(script, /secretmanager\.googleapis\.com\/v1\/projects\/\$\{SECRETS_PROJECT\}\/secrets\/\$\{secret_id\}\/versions\/latest:access/);
            assert.match(script, /store_secret "\$AGENT_TOKEN_SECRET"/);
            assert.match(script, /store_secret "\$HF_TOKEN_SECRET"/);
            assert.match(script, /store_secret "\$ANALYTICS_TOKEN_SECRET"/);
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
