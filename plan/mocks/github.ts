/** Mocked GitHub functions: plausible, deterministic values. */
import { createHash } from "crypto";
import type { CallMock } from "./types";

/** A repository id derived from its full name (real ids are looked up by `pulumi up`). */
export function mockRepositoryId(fullName: string): number {
    return 100_000_000 + (createHash("sha256").update(fullName).digest().readUInt32BE(0) % 900_000_000);
}

export const githubCalls: Record<string, CallMock> = {
    "github:index/getRepository:getRepository": (inputs) => {
        const fullName = String(inputs.fullName ?? "");
        return { fullName, name: fullName.split("/").pop(), repoId: mockRepositoryId(fullName), id: fullName };
    },
};
