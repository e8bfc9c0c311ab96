/**
 * What mocked resources and provider functions return in the offline plan and the tests.
 * Each cloud keeps its table in its own file; values are plausible and deterministic.
 */
import { awsCalls, awsOutputs } from "./aws";
import { gcpCalls, gcpOutputs } from "./gcp";
import { githubCalls } from "./github";
import { k8sOutputs } from "./k8s";

import type { CallMock, OutputMock } from "./types";

export type { CallMock, OutputMock };

const outputTables: Record<string, OutputMock>[] = [awsOutputs, gcpOutputs, k8sOutputs];
const callTables: Record<string, CallMock>[] = [awsCalls, gcpCalls, githubCalls];

export function mockOutputs(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
    for (const table of outputTables) {
        const mock = table[type];
        if (mock) return mock(name, inputs);
    }
    return {};
}

export function mockCall(token: string, inputs: Record<string, any>): Record<string, unknown> {
    for (const table of callTables) {
        const mock = table[token];
        if (mock) return mock(inputs);
    }
    return inputs;
}
