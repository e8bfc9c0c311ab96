/** The startup-script variables every VM agent shares, from its layout (pure). */
import type { AgentSecrets, GithubAppLayout } from "./layout";
import type { AgentScriptVariables } from "./startup-script";

/** Artifact Registry hosts the agents log docker in to, as live. */
export const REGISTRY_HOSTS = "us-central1-docker.pkg.dev us-docker.pkg.dev";

/** The variables of an agent of `layout` named `agentName` with `tags`. */
export function vmStartupVariables(
    layout: { readonly queue: { readonly name: string }; readonly secrets: AgentSecrets; readonly githubApp?: GithubAppLayout },
    agentName: string,
    tags: string,
): Omit<AgentScriptVariables, "AGENT_ENVIRONMENT" | "REGISTRY_HOSTS"> {
    return {
        QUEUE: layout.queue.name,
        AGENT_NAME: agentName,
        AGENT_TAGS: tags,
        SECRETS_PROJECT: layout.secrets.project,
        AGENT_TOKEN_SECRET: layout.secrets.agentToken,
        HF_TOKEN_SECRET: layout.secrets.hfToken,
        ANALYTICS_TOKEN_SECRET: layout.secrets.analyticsToken ?? "",
        GITHUB_APP_ID: layout.githubApp?.appId ?? "",
        GITHUB_APP_INSTALLATION_ID: layout.githubApp?.installationId ?? "",
        GITHUB_APP_PEM_SECRET: layout.githubApp?.pemSecret ?? "",
    };
}
