/** Mocked Buildkite outputs: plausible, deterministic values. */
import type { OutputMock } from "./types";

/**
 * What every mocked agent token starts with: a real token's shape (`bkct_…`), so the policy pack
 * and the tests can prove the value never reaches a plain input, output or the printed plan.
 */
export const MOCK_AGENT_TOKEN_PREFIX = "bkct_mockAgentTokenNeverInPlaintext";

const graphqlId = (kind: string, name: string) => Buffer.from(`${kind}---mock-${name}`).toString("base64");
const uuidOf = (name: string) => {
    const hex = Buffer.from(name).toString("hex").padEnd(32, "0").slice(0, 32);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

export const buildkiteOutputs: Record<string, OutputMock> = {
    "buildkite:Cluster/cluster:Cluster": (name) => ({ uuid: uuidOf(name) }),
    "buildkite:Cluster/clusterQueue:ClusterQueue": (name) => ({ uuid: uuidOf(name) }),
    "buildkite:Cluster/clusterAgentToken:ClusterAgentToken": (name) => ({
        uuid: uuidOf(name),
        token: `${MOCK_AGENT_TOKEN_PREFIX}${Buffer.from(name).toString("hex")}`,
    }),
    "buildkite:Pipeline/pipeline:Pipeline": (name, inputs) => ({ uuid: uuidOf(name), slug: inputs.slug ?? name, webhookUrl: `https://webhook.buildkite.com/deliver/mock-${name}` }),
    "buildkite:Pipeline/schedule:Schedule": (name) => ({ uuid: uuidOf(name), graphqlId: graphqlId("PipelineSchedule", name) }),
};
