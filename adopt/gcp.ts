/**
 * Adoption rules of the GCP stack (`gcp-prod`) from the Terraform roots `terraform/gcp` and
 * `terraform/gcp_old/*` of vllm-project/ci-infra, and the Kubernetes objects that exist on the
 * external clusters. To be filled in, as for AWS.
 */
import type { StackAdoption } from "./engine";

export function gcpAdoption(stack: string): StackAdoption {
    return { stack, rules: [], created: [], leftInTerraform: [], differences: [] };
}
