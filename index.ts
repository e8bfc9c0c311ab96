/** Entry point of `pulumi up` / `pulumi preview`: the stack's cloud, built from the queue catalog. */
import { defineFleet } from "./fleet";

export = defineFleet();
