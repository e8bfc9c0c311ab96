/** Mocked GCP outputs and functions. */
import type { CallMock, OutputMock } from "./index";

export const gcpOutputs: Record<string, OutputMock> = {};

export const gcpCalls: Record<string, CallMock> = {};
