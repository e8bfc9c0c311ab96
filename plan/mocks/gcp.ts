/** Mocked GCP (and TLS) outputs and functions: plausible, deterministic values. */
import type { CallMock, OutputMock } from "./types";

/** What the plan shows as a generated private key: a marker tests look for in plaintext inputs. */
export const MOCK_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nmock-private-key-never-in-plaintext\n-----END OPENSSH PRIVATE KEY-----\n";

const projectOf = (inputs: Record<string, any>): string => inputs.project ?? "mock-project";

export const gcpOutputs: Record<string, OutputMock> = {
    "gcp:container/cluster:Cluster": (name, inputs) => ({
        name: inputs.name ?? name,
        // Documentation address range (RFC 5737): never a real endpoint.
        endpoint: "203.0.113.10",
        masterAuth: { clusterCaCertificate: Buffer.from(`mock-ca-of-${inputs.name ?? name}`).toString("base64") },
        selfLink: `https://container.googleapis.com/v1/projects/${projectOf(inputs)}/locations/${inputs.location}/clusters/${inputs.name ?? name}`,
    }),
    "gcp:serviceaccount/account:Account": (name, inputs) => ({
        email: `${inputs.accountId ?? name}@${projectOf(inputs)}.iam.gserviceaccount.com`,
        name: `projects/${projectOf(inputs)}/serviceAccounts/${inputs.accountId ?? name}@${projectOf(inputs)}.iam.gserviceaccount.com`,
        member: `serviceAccount:${inputs.accountId ?? name}@${projectOf(inputs)}.iam.gserviceaccount.com`,
        uniqueId: "100000000000000000001",
    }),
    "gcp:secretmanager/secret:Secret": (name, inputs) => ({
        secretId: inputs.secretId ?? name,
        name: `projects/${projectOf(inputs)}/secrets/${inputs.secretId ?? name}`,
    }),
    "gcp:secretmanager/secretVersion:SecretVersion": (name, inputs) => ({ name: `${inputs.secret}/versions/1`, version: "1" }),
    "gcp:artifactregistry/repository:Repository": (name, inputs) => ({
        repositoryId: inputs.repositoryId ?? name,
        name: `projects/${projectOf(inputs)}/locations/${inputs.location}/repositories/${inputs.repositoryId ?? name}`,
        registryUri: `${inputs.location}-docker.pkg.dev/${projectOf(inputs)}/${inputs.repositoryId ?? name}`,
    }),
    "gcp:compute/instanceTemplate:InstanceTemplate": (name, inputs) => ({
        selfLink: `https://www.googleapis.com/compute/v1/projects/${projectOf(inputs)}/regions/${inputs.region}/instanceTemplates/${name}-mock`,
        selfLinkUnique: `https://www.googleapis.com/compute/v1/projects/${projectOf(inputs)}/regions/${inputs.region}/instanceTemplates/${name}-mock?uniqueId=1`,
    }),
    "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager": (name, inputs) => ({
        instanceGroup: `https://www.googleapis.com/compute/v1/projects/${projectOf(inputs)}/regions/${inputs.region}/instanceGroups/${inputs.name ?? name}`,
    }),
    "gcp:compute/disk:Disk": (name, inputs) => ({
        selfLink: `https://www.googleapis.com/compute/v1/projects/${projectOf(inputs)}/zones/${inputs.zone}/disks/${inputs.name ?? name}`,
    }),
    "gcp:tpu/v2Vm:V2Vm": (name, inputs) => ({ state: "READY", networkEndpoints: [{ ipAddress: "10.0.0.2", port: 8470 }] }),
    "gcp:compute/address:Address": (name, inputs) => ({ address: "198.51.100.7" }),
    "gcp:compute/instance:Instance": (name, inputs) => ({ instanceId: "1000000000000000001" }),
    "gcp:storage/bucket:Bucket": (name, inputs) => ({ name: inputs.name ?? name, url: `gs://${inputs.name ?? name}` }),
    "gcp:cloudrunv2/service:Service": (name, inputs) => ({ name: inputs.name ?? name, uri: `https://${inputs.name ?? name}-mock-uc.a.run.app` }),
    "tls:index/privateKey:PrivateKey": () => ({
        publicKeyOpenssh: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockPublicKeyOfTheTpuWorkersMockMockMock\n",
        privateKeyOpenssh: MOCK_PRIVATE_KEY,
        privateKeyPem: MOCK_PRIVATE_KEY,
    }),
};

/** What the plan shows as a secret version read from Secret Manager: a marker tests look for in plaintext inputs. */
export const MOCK_SECRET_DATA = "mock-secret-manager-value-never-in-plaintext";

export const gcpCalls: Record<string, CallMock> = {
    // The real address is `<project number>-compute@developer.gserviceaccount.com`.
    "gcp:compute/getDefaultServiceAccount:getDefaultServiceAccount": (inputs) => ({
        email: `${inputs.project ?? "mock-project"}-compute@developer.gserviceaccount.com`,
        project: inputs.project,
    }),
    "gcp:secretmanager/getSecretVersion:getSecretVersion": (inputs) => ({
        secret: inputs.secret,
        project: inputs.project,
        version: "1",
        secretData: MOCK_SECRET_DATA,
    }),
};
