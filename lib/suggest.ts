/**
 * "Did you mean" suggestions for misspelt names (fields, queues, devices).
 * Shared by the catalog loader and the generator; no dependencies, so it stays in the bundle cheaply.
 */

/** Edit distance (insertions, deletions, substitutions) between two strings. */
export function editDistance(a: string, b: string): number {
    if (a === b) return 0;
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
        }
        previous = current;
    }
    return previous[b.length];
}

/**
 * The candidate closest to `word`, if it is close enough to be a plausible typo
 * (at most a third of the word's length in edits, or a prefix/extension of it).
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const candidate of candidates) {
        const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
        if (distance < bestDistance || (distance === bestDistance && best !== undefined && candidate < best)) {
            best = candidate;
            bestDistance = distance;
        }
    }
    if (best === undefined) return undefined;
    const limit = Math.max(2, Math.floor(word.length / 3));
    const extends_ = best.startsWith(word) || word.startsWith(best);
    return bestDistance <= limit || (extends_ && Math.abs(best.length - word.length) <= 3) ? best : undefined;
}

/** ` (did you mean "x"?)`, or an empty string when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
    const match = closestMatch(word, candidates);
    return match === undefined ? "" : ` (did you mean "${match}"?)`;
}
