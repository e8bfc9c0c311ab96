/** Names derived from catalog names, shared by every folder that turns a queue into a resource name. */

/**
 * A DNS-1123 label from a catalog name: lowercase, runs of anything but letters, digits and `-`
 * become one `-`, no `-` at either end (`tpu_v6e_queue` → `tpu-v6e-queue`). Length is the
 * caller's to fit (`gcp/names.ts` `fitName`, Helm's 53 characters in `k8s/values.ts`).
 */
export function dnsLabel(name: string): string {
    return name
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/-+/g, "-")
        .replace(/^-|-$/g, "");
}
