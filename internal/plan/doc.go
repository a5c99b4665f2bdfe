// Package plan is what the construct builds, worked out in plain Go from
// plain values: the policy statements that protect a table, its key and its
// journal, the properties each protected resource must have, the checks on
// props that need no CDK type, and upper bounds on what a deployed policy
// can grow to. The construct (constructs/appendonly) turns a plan into CDK
// resources and records it in the template; package check reads it back
// from the template. Nothing here calls the jsii kernel, so its tests run in
// milliseconds.
package plan
