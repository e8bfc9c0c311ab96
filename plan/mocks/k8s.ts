/** Mocked Kubernetes outputs. */
import type { OutputMock } from "./types";

export const k8sOutputs: Record<string, OutputMock> = {};
