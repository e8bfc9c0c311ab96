/**
 * IAM's wildcards in ARNs: `*` matches any run of characters, `?` exactly one (Secrets Manager
 * ARNs end in `-??????`). The policy pack and the tests match grants with this one function.
 */
export function iamGlobToRegExp(glob: string): RegExp {
    const pattern = [...glob].map((char) => (char === "*" ? ".*" : char === "?" ? "." : char.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("");
    return new RegExp(`^${pattern}$`);
}

/** Whether `arn` is one of the ARNs `glob` grants. */
export function iamGlobMatches(glob: string, arn: string): boolean {
    return iamGlobToRegExp(glob).test(arn);
}
