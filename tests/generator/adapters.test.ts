/**
 * The generator's real adapters at the edge, against real things: a temporary git repository,
 * a local HTTP server standing in for GitHub, and stub `aws`/`docker` commands on PATH. An
 * adapter that returned nothing, or asked the wrong question, fails here.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { dockerAdapters, gitAdapters, githubAdapters } from "../../generator/adapters";
import { GeneratorError } from "../../generator/errors";
import { VLLM_SETTINGS } from "../../generator/settings";

const temp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

describe("generator adapters", () => {
    describe("git", () => {
        let repo: string;
        let base: string;
        const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();
        before(() => {
            repo = temp("adapters-git-");
            git("init", "-q", "-b", "feature");
            git("config", "user.email", "t@example.com");
            git("config", "user.name", "t");
            fs.writeFileSync(path.join(repo, "base.txt"), "base\n");
            git("add", ".");
            git("commit", "-qm", "base");
            base = git("rev-parse", "HEAD");
            git("update-ref", "refs/remotes/origin/main", base);
            fs.writeFileSync(path.join(repo, "changed.py"), "x = 1\n");
            git("add", ".");
            git("commit", "-qm", "change");
            fs.writeFileSync(path.join(repo, "untracked.md"), "new\n");
        });
        after(() => fs.rmSync(repo, { recursive: true, force: true }));

        it("finds the merge base with origin/main", async () => {
            assert.equal(await gitAdapters(repo).mergeBase!(), base);
        });

        it("lists the branch's changes against the merge base, new untracked files included", async () => {
            const files = await gitAdapters(repo).changedFiles!({ branch: "feature", mergeBase: base });
            assert.deepEqual([...files].sort(), ["changed.py", "untracked.md"]);
        });

        it("diffs main against its previous commit", async () => {
            const files = await gitAdapters(repo).changedFiles!({ branch: "main", mergeBase: null });
            assert.deepEqual([...files].sort(), ["changed.py", "untracked.md"]);
        });

        it("has no merge base without origin/main, and fails in one line on a bad base", async () => {
            const bare = temp("adapters-nogit-");
            try {
                assert.equal(await gitAdapters(bare).mergeBase!(), null);
                assert.throws(() => gitAdapters(repo).changedFiles!({ branch: "feature", mergeBase: "0".repeat(40) }), (error: Error) => {
                    assert.ok(error instanceof GeneratorError);
                    assert.match(error.message, /git diff against 0{40} failed/);
                    return true;
                });
            } finally {
                fs.rmSync(bare, { recursive: true, force: true });
            }
        });
    });

    describe("GitHub", () => {
        let server: http.Server;
        let apiUrl: string;
        const requests: string[] = [];
        before(async () => {
            server = http.createServer((request, response) => {
                requests.push(`${request.url} ${request.headers["user-agent"]}`);
                if (request.url === "/repos/vllm-project/vllm/pulls/123") {
                    response.writeHead(200, { "content-type": "application/json" });
                    response.end(JSON.stringify({ labels: [{ name: "ready" }, { name: "ci-no-fail-fast" }, { id: 3 }] }));
                } else {
                    response.writeHead(404);
                    response.end();
                }
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        });
        after(() => server.close());

        it("reads the pull request's label names", async () => {
            const settings = { ...VLLM_SETTINGS, github: { ...VLLM_SETTINGS.github, apiUrl } };
            assert.deepEqual(await githubAdapters(settings).prLabels!("vllm-project/vllm", "123"), ["ready", "ci-no-fail-fast"]);
            assert.match(requests[0], /^\/repos\/vllm-project\/vllm\/pulls\/123 vllm-ci-pipeline-generator$/);
        });

        it("fails in one line on an HTTP error", async () => {
            const settings = { ...VLLM_SETTINGS, github: { ...VLLM_SETTINGS.github, apiUrl } };
            await assert.rejects(Promise.resolve(githubAdapters(settings).prLabels!("vllm-project/vllm", "999")), /GitHub API request .*\/pulls\/999 failed: HTTP 404/);
        });
    });

    describe("docker and ECR", () => {
        let bin: string;
        let log: string;
        let savedPath: string | undefined;
        before(() => {
            bin = temp("adapters-bin-");
            log = path.join(bin, "calls.log");
            // `aws` prints a password; `docker login` records its stdin; `docker manifest inspect` knows one tag.
            fs.writeFileSync(path.join(bin, "aws"), `#!/bin/sh\necho "aws $*" >> "${log}"\nprintf 'pa55word'\n`, { mode: 0o755 });
            fs.writeFileSync(
                path.join(bin, "docker"),
                `#!/bin/sh\necho "docker $*" >> "${log}"\nif [ "$1" = login ]; then echo "stdin=$(cat)" >> "${log}"; exit 0; fi\n[ "$3" = "registry/image:present" ]\n`,
                { mode: 0o755 },
            );
            savedPath = process.env.PATH;
            process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
        });
        after(() => {
            process.env.PATH = savedPath;
            fs.rmSync(bin, { recursive: true, force: true });
        });

        it("asks docker whether a tag exists", async () => {
            const docker = dockerAdapters(VLLM_SETTINGS, bin);
            assert.equal(await docker.manifestExists!("registry/image:present"), true);
            assert.equal(await docker.manifestExists!("registry/image:absent"), false);
        });

        it("logs in to the settings' registry with the password on stdin, never on the command line", () => {
            fs.writeFileSync(log, "");
            dockerAdapters(VLLM_SETTINGS, bin).ecrLogin!();
            const calls = fs.readFileSync(log, "utf8").trim().split("\n");
            assert.deepEqual(calls, [
                `aws ecr get-login-password --region ${VLLM_SETTINGS.ecr.loginRegion}`,
                `docker login --username AWS --password-stdin ${VLLM_SETTINGS.ecr.loginRegistry}`,
                "stdin=pa55word",
            ]);
        });

        it("fails in one line when the login fails", () => {
            fs.writeFileSync(path.join(bin, "aws"), "#!/bin/sh\necho 'Unable to locate credentials' >&2\nexit 255\n", { mode: 0o755 });
            assert.throws(() => dockerAdapters(VLLM_SETTINGS, bin).ecrLogin!(), /ECR login failed: aws ecr get-login-password: Unable to locate credentials/);
        });
    });
});
