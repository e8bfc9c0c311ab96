/**
 * The capacity view as text: the table `npm run catalog -- capacity` prints, and the lines
 * `plan:diff` adds to a pull request's summary to say how a change moves the totals
 * ("+64 L4, +$X/h at full scale"). Pure functions of `FleetCapacity` documents.
 */
import type { CapacityTotals, FleetCapacity, QueueCapacity } from "./capacity";

/** `$1,234.56` (always two decimals, thousands separated; the same bytes on every machine). */
export function formatUsd(usd: number): string {
    const [whole, fraction] = Math.abs(usd).toFixed(2).split(".");
    return `${usd < 0 ? "-" : ""}$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${fraction}`;
}

/** `208 L4 + 160 TPU v6e chips`, kinds in name order; `-` for none. */
export function formatAccelerators(accelerators: Readonly<Record<string, number>>): string {
    const entries = Object.entries(accelerators).filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return entries.length === 0 ? "-" : entries.map(([kind, n]) => `${n} ${kind}`).join(" + ");
}

function table(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly number[]): string[] {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: readonly string[]) => cells.map((c, i) => (rightAligned.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
    return [line(header), ...rows.map(line)];
}

const cost = (q: { usdPerHour: number | undefined; estimate?: boolean }) => (q.usdPerHour === undefined ? "no price" : `${q.estimate ? "~" : ""}${formatUsd(q.usdPerHour)}`);

/** The table of queues and the totals per cloud, as printed. */
export function capacityTable(capacity: FleetCapacity, catalogFile: string): string {
    const lines = [`Capacity and on-demand cost at full scale (${catalogFile})`, ""];
    lines.push(
        ...table(
            ["queue", "cloud", "provider", "machine", "max", "how", "accelerators", "$/h at full scale"],
            capacity.queues.map((q: QueueCapacity) => [q.queue, q.cloud, q.provider, q.machineType, String(q.maxInstances), q.how, formatAccelerators(q.accelerators), cost(q)]),
            [4, 7],
        ),
    );
    lines.push("", "Totals at full scale");
    lines.push(
        ...table(
            ["cloud", "max instances", "accelerators", "$/h", "$/month (730 h)"],
            capacity.totals.map((t: CapacityTotals) => {
                const approx = t.estimated > 0 ? "~" : "";
                return [t.cloud, String(t.maxInstances), formatAccelerators(t.accelerators), approx + formatUsd(t.usdPerHour) + (t.unpriced > 0 ? ` (+${t.unpriced} unpriced)` : ""), approx + formatUsd(t.usdPerHour * 730)];
            }),
            [1, 3, 4],
        ),
    );
    lines.push(
        "",
        `Not counted: ${capacity.notProvisioned.length} queue(s) on clusters and hardware this program does not provision (k8s, external).`,
        "Prices: on-demand list prices of the catalog's section prices (source and date there); ~ marks an estimate. TPU VMs run reserved and builders preemptible, so the bill is lower; this is the ceiling.",
    );
    return `${lines.join("\n")}\n`;
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));
const signedUsd = (usd: number) => (usd > 0 ? `+${formatUsd(usd)}` : formatUsd(usd));

/** `+64 L4, -16 TPU v7x chips, +$84.69/h at full scale`, or undefined when nothing moves. */
function movement(before: { accelerators: Readonly<Record<string, number>>; usdPerHour: number; maxInstances: number }, after: typeof before, instances: string): string | undefined {
    const kinds = [...new Set([...Object.keys(before.accelerators), ...Object.keys(after.accelerators)])].sort();
    const parts = kinds.map((kind) => [kind, (after.accelerators[kind] ?? 0) - (before.accelerators[kind] ?? 0)] as const).filter(([, d]) => d !== 0).map(([kind, d]) => `${signed(d)} ${kind}`);
    const usd = Math.round((after.usdPerHour - before.usdPerHour) * 100) / 100;
    const machines = after.maxInstances - before.maxInstances;
    if (parts.length === 0 && usd === 0 && machines === 0) return undefined;
    return [...parts, `${signedUsd(usd)}/h at full scale`, ...(machines !== 0 ? [`${signed(machines)} ${instances}`] : [])].join(", ");
}

const EMPTY: FleetCapacity = { queues: [], totals: [], notProvisioned: [] };

/**
 * How a change moves the capacity: one line per cloud and for the fleet, then one per queue whose
 * maximum, accelerators or cost changed. Empty when nothing moves.
 */
export function capacityDiffLines(base: FleetCapacity | undefined, head: FleetCapacity): string[] {
    const was = base ?? EMPTY;
    const zero = { accelerators: {}, usdPerHour: 0, maxInstances: 0 };
    const lines: string[] = [];
    for (const total of head.totals) {
        const before = was.totals.find((t) => t.cloud === total.cloud) ?? zero;
        const moved = movement(before, total, "instances");
        if (moved) lines.push(`${total.cloud}: ${moved}`);
    }
    const key = (q: QueueCapacity) => `${q.cloud}/${q.queue}`;
    const before = new Map(was.queues.map((q) => [key(q), q]));
    const after = new Map(head.queues.map((q) => [key(q), q]));
    for (const k of [...new Set([...before.keys(), ...after.keys()])].sort()) {
        const [b, a] = [before.get(k), after.get(k)];
        const moved = movement({ ...zero, ...b, usdPerHour: b?.usdPerHour ?? 0 }, { ...zero, ...a, usdPerHour: a?.usdPerHour ?? 0 }, "instances");
        if (!moved) continue;
        const range = `max ${b?.maxInstances ?? "-"} → ${a?.maxInstances ?? "-"}`;
        lines.push(`queue ${k}${!b ? " (new)" : !a ? " (removed)" : ""}: ${range}: ${moved}`);
    }
    return lines;
}

/** The section `plan:diff` adds to the pull request's summary (empty when nothing moves). */
export function capacityDiffMarkdown(base: FleetCapacity | undefined, head: FleetCapacity): string[] {
    const lines = capacityDiffLines(base, head);
    if (lines.length === 0) return [];
    return ["### Capacity at full scale", "", ...lines.map((line) => `- ${line}`), ""];
}
