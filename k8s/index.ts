/** The Buildkite agent stack on Kubernetes: chart values, priority classes, the component. */
export * from "./chart";
export * from "./priority-classes";
export * from "./values";
export { AgentStackK8s, type AgentStackK8sArgs } from "./agent-stack";
