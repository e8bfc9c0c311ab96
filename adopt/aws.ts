/**
 * Adoption rules of the AWS stack (`aws-prod`) from the Terraform root `terraform/aws` of
 * vllm-project/ci-infra. To be filled in: one `AdoptionRule` per Pulumi type the program
 * declares that exists in the live account, the reasons for what is created, left in Terraform
 * or different.
 */
import type { StackAdoption } from "./engine";

export function awsAdoption(stack: string): StackAdoption {
    return { stack, rules: [], created: [], leftInTerraform: [], differences: [] };
}
