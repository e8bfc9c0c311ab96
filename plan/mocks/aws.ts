/** Mocked AWS outputs and functions. */
import type { CallMock, OutputMock } from "./index";

/** The account the offline plan pretends to run in (documentation range, not a real account). */
export const MOCK_AWS_ACCOUNT = "123456789012";

export const awsOutputs: Record<string, OutputMock> = {};

export const awsCalls: Record<string, CallMock> = {
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: MOCK_AWS_ACCOUNT, arn: `arn:aws:iam::${MOCK_AWS_ACCOUNT}:user/plan`, userId: "plan" }),
};
