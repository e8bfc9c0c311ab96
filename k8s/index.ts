/** The Buildkite agent stack on Kubernetes: settings, layout, chart values, priority classes, the component. */
export * from "./chart";
export * from "./priority-classes";
export * from "./values";
export * from "./settings";
export * from "./layout";
export { AgentStackK8s, type AgentStackK8sArgs } from "./agent-stack";
