/** Mocked Kubernetes outputs. */
import type { OutputMock } from "./index";

export const k8sOutputs: Record<string, OutputMock> = {};
