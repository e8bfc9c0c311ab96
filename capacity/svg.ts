/**
 * The capacity view as an SVG chart (`npm run catalog -- capacity --svg FILE`): the on-demand cost
 * at full scale of every queue as horizontal bars coloured by cloud, and the accelerators each
 * cloud reaches, by kind. A small builder of our own (elements, escaped text, coordinates with one
 * decimal), so the same capacity gives the same bytes.
 */
import type { FleetCapacity } from "./capacity";
import { formatAccelerators, formatUsd } from "./report";

/** An SVG element: its name, attributes (in the order given) and children (elements or text). */
export interface SvgNode {
    readonly name: string;
    readonly attributes: Readonly<Record<string, string | number>>;
    readonly children: readonly (SvgNode | string)[];
}

export function el(name: string, attributes: Record<string, string | number> = {}, ...children: (SvgNode | string)[]): SvgNode {
    return { name, attributes, children };
}

/** Text and attribute values with the five XML specials escaped. */
export function escapeXml(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

const number = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(1));

/** The element as XML, children indented by two spaces per level. */
export function renderSvg(node: SvgNode, depth = 0): string {
    const pad = "  ".repeat(depth);
    const attributes = Object.entries(node.attributes)
        .map(([key, value]) => ` ${key}="${typeof value === "number" ? number(value) : escapeXml(value)}"`)
        .join("");
    if (node.children.length === 0) return `${pad}<${node.name}${attributes}/>`;
    if (node.children.every((c) => typeof c === "string")) return `${pad}<${node.name}${attributes}>${node.children.map((c) => escapeXml(c as string)).join("")}</${node.name}>`;
    const inner = node.children.map((c) => (typeof c === "string" ? `${"  ".repeat(depth + 1)}${escapeXml(c)}` : renderSvg(c, depth + 1)));
    return [`${pad}<${node.name}${attributes}>`, ...inner, `${pad}</${node.name}>`].join("\n");
}

/** Colours of the clouds (AWS orange, Google blue) and of the text. */
export const CLOUD_COLOURS: Readonly<Record<string, string>> = { aws: "#e8890c", gcp: "#3a78d8" };
const INK = "#222222";
const MUTED = "#666666";

const LAYOUT = { width: 1000, margin: 20, labelWidth: 300, valueWidth: 170, row: 20, bar: 14, title: 34, section: 40 } as const;

/** The chart of a capacity view. `title` names what it shows (the catalog file). */
export function capacityChart(capacity: FleetCapacity, title: string): string {
    const { width, margin, labelWidth, valueWidth, row, bar } = LAYOUT;
    const plotLeft = margin + labelWidth;
    const plotWidth = width - plotLeft - margin - valueWidth;
    const text = (x: number, y: number, content: string, extra: Record<string, string | number> = {}) => el("text", { x, y, ...extra }, content);
    const children: SvgNode[] = [];
    let y = margin + 16;
    children.push(text(margin, y, `Fleet capacity at full scale: on-demand cost per hour (${title})`, { "font-size": 16, "font-weight": "bold" }));
    y += 10;

    // Panel 1: cost per queue.
    const queues = capacity.queues;
    const maxCost = Math.max(1, ...queues.map((q) => q.usdPerHour ?? 0));
    y += LAYOUT.section - 20;
    children.push(text(margin, y, "Cost per queue ($/h at full scale; ~ estimate)", { "font-size": 13, "font-weight": "bold" }));
    y += 8;
    for (const q of queues) {
        const barWidth = ((q.usdPerHour ?? 0) / maxCost) * plotWidth;
        children.push(text(plotLeft - 8, y + bar - 3, `${q.queue} (${q.machineType})`, { "text-anchor": "end", "font-size": 11 }));
        children.push(el("rect", { x: plotLeft, y, width: Math.max(barWidth, 0.5), height: bar, fill: CLOUD_COLOURS[q.cloud] ?? MUTED, "fill-opacity": q.estimate ? 0.5 : 1 }));
        const label = q.usdPerHour === undefined ? "no price" : `${q.estimate ? "~" : ""}${formatUsd(q.usdPerHour)}/h, max ${q.maxInstances}`;
        children.push(text(plotLeft + barWidth + 6, y + bar - 3, label, { "font-size": 11, fill: q.usdPerHour === undefined ? "#b00020" : INK }));
        y += row;
    }

    // Panel 2: accelerators per cloud, by kind.
    y += LAYOUT.section - 10;
    children.push(text(margin, y, "Accelerators at full scale, by kind", { "font-size": 13, "font-weight": "bold" }));
    y += 8;
    const clouds = capacity.totals.filter((t) => t.cloud !== "fleet");
    const kinds = [...new Set(clouds.flatMap((t) => Object.keys(t.accelerators)))].sort();
    const fleet = capacity.totals.find((t) => t.cloud === "fleet");
    const maxCount = Math.max(1, ...kinds.map((k) => fleet?.accelerators[k] ?? 0));
    for (const kind of kinds) {
        children.push(text(plotLeft - 8, y + bar - 3, kind, { "text-anchor": "end", "font-size": 11 }));
        let x = plotLeft;
        for (const total of clouds) {
            const count = total.accelerators[kind] ?? 0;
            if (count === 0) continue;
            const w = (count / maxCount) * plotWidth;
            children.push(el("rect", { x, y, width: w, height: bar, fill: CLOUD_COLOURS[total.cloud] ?? MUTED }));
            x += w;
        }
        children.push(text(x + 6, y + bar - 3, String(fleet?.accelerators[kind] ?? 0), { "font-size": 11 }));
        y += row;
    }

    // Totals and legend.
    y += LAYOUT.section - 10;
    children.push(text(margin, y, "Totals at full scale", { "font-size": 13, "font-weight": "bold" }));
    for (const total of capacity.totals) {
        y += row;
        const swatch = CLOUD_COLOURS[total.cloud];
        if (swatch) children.push(el("rect", { x: margin, y: y - 11, width: 12, height: 12, fill: swatch }));
        children.push(text(margin + 18, y, `${total.cloud}: ${total.maxInstances} instances, ${formatAccelerators(total.accelerators)}, ${total.estimated > 0 ? "~" : ""}${formatUsd(total.usdPerHour)}/h (${total.estimated > 0 ? "~" : ""}${formatUsd(total.usdPerHour * 730)}/month)`, { "font-size": 12 }));
    }
    y += row;
    children.push(text(margin, y, `Not counted: ${capacity.notProvisioned.length} queue(s) on hardware this program does not provision. On-demand list prices: reserved TPUs and preemptible builders cost less.`, { "font-size": 10, fill: MUTED }));
    const height = y + margin;
    const svg = el(
        "svg",
        { xmlns: "http://www.w3.org/2000/svg", width, height, viewBox: `0 0 ${width} ${number(height)}`, "font-family": "DejaVu Sans, Arial, sans-serif", fill: INK },
        el("rect", { x: 0, y: 0, width, height, fill: "#ffffff" }),
        ...children,
    );
    return `<?xml version="1.0" encoding="UTF-8"?>\n${renderSvg(svg)}\n`;
}
