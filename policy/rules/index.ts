/** Every rule of the fleet's policy pack. */
import type { FleetRule } from "../subject";
import { buildkiteTokenInSecretStores } from "./buildkite-token-in-secret-stores";
import { ecrCacheExpiry } from "./ecr-cache-expiry";
import { elasticStackTokenFromSsm } from "./elastic-stack-token-from-ssm";
import { gkeNoDefaultServiceAccount } from "./gke-no-default-service-account";
import { noPlaintextSecrets } from "./no-plaintext-secrets";
import { premergeNoReleaseWrite } from "./premerge-no-release-write";
import { s3PublicAccessBlocked } from "./s3-public-access-blocked";

export const FLEET_RULES: FleetRule[] = [
    noPlaintextSecrets,
    premergeNoReleaseWrite,
    ecrCacheExpiry,
    s3PublicAccessBlocked,
    elasticStackTokenFromSsm,
    gkeNoDefaultServiceAccount,
    buildkiteTokenInSecretStores,
];
