/**
 * The program of the pre-commit poller step (spec §4.15), run as `python3 -c '<program>'`.
 * It waits for the GitHub check run of the PR's commit and fails the step only on a confirmed
 * failure. `{{name}}` placeholders are filled from the settings and the build; the text must
 * contain no single quote and no `$` (it is passed inside single quotes and Buildkite would
 * interpolate a `$`).
 */
export const PRECOMMIT_PROGRAM_TEMPLATE = `import json, subprocess, time, urllib.request
commit = "{{commit}}"
repo = "{{repo}}"
api_url = "{{api_url}}/repos/" + repo + "/commits/" + commit + "/check-runs"
max_wait = {{max_wait}}
wait_interval = {{wait_interval}}
elapsed = 0
while True:
    request = urllib.request.Request(api_url)
    request.add_header("User-Agent", "vllm-ci-precommit-check")
    request.add_header("Accept", "application/vnd.github+json")
    with urllib.request.urlopen(request) as response:
        check_runs = json.load(response).get("check_runs", [])
    precommit_run = next((run for run in check_runs if run["name"] == "{{check_name}}"), None)
    if precommit_run and precommit_run["status"] == "completed":
        conclusion = precommit_run["conclusion"]
        if conclusion == "success":
            print("pre-commit check passed on commit " + commit + ".")
            raise SystemExit(0)
        # Only block downstream tests on a confirmed pre-commit failure. Other
        # conclusions (skipped, cancelled, neutral, stale, ...) are not real
        # failures, and pre-commit is also a required check on the PR, so let CI
        # proceed rather than false-failing the whole build.
        if conclusion in ("failure", "timed_out", "action_required"):
            subprocess.run(["buildkite-agent", "annotate", ":x: pre-commit check failed on this PR (conclusion: " + str(conclusion) + "). Please fix pre-commit issues before running CI.", "--style", "error"], check=False)
            raise SystemExit("pre-commit check failed on commit " + commit + " (conclusion: " + str(conclusion) + ").")
        print("pre-commit check did not fail (conclusion: " + str(conclusion) + "); allowing CI to proceed.")
        raise SystemExit(0)
    if elapsed >= max_wait:
        # Do not block CI if the check never completes; the pre-commit check on
        # the PR still surfaces a genuine failure independently.
        subprocess.run(["buildkite-agent", "annotate", ":warning: Timed out waiting for the pre-commit check to complete; allowing CI to proceed. See the pre-commit check on the PR for its status.", "--style", "warning"], check=False)
        print("Timed out after " + str(max_wait) + "s waiting for pre-commit check on commit " + commit + "; allowing CI to proceed.")
        raise SystemExit(0)
    status = precommit_run["status"] if precommit_run else "not found"
    print("pre-commit check is not yet complete (status: " + status + "). Waiting " + str(wait_interval) + "s... (" + str(elapsed) + "/" + str(max_wait) + "s)")
    time.sleep(wait_interval)
    elapsed += wait_interval
`;
