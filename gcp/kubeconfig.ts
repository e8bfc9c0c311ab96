/** A kubeconfig for a GKE cluster, authenticating with the caller's gcloud credentials. */
import * as yaml from "js-yaml";

/**
 * Builds the kubeconfig of a GKE cluster from its endpoint and CA certificate. It holds no
 * credential: `gke-gcloud-auth-plugin` mints a short-lived token for whoever runs `pulumi up`.
 */
export function gkeKubeconfig(cluster: string, endpoint: string, caCertificate: string): string {
    const name = `gke-${cluster}`;
    return yaml.dump({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { server: `https://${endpoint}`, "certificate-authority-data": caCertificate } }],
        contexts: [{ name, context: { cluster: name, user: name } }],
        "current-context": name,
        users: [
            {
                name,
                user: {
                    exec: {
                        apiVersion: "client.authentication.k8s.io/v1beta1",
                        command: "gke-gcloud-auth-plugin",
                        provideClusterInfo: true,
                        installHint: "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
                    },
                },
            },
        ],
    });
}
