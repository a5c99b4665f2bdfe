package appendonly

import (
	"time"

	"github.com/appendonly/appendonly/check"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// guard is the app-wide check that the synthesized templates are what the
// construct promises. NewTable arms it once per app, as a CDK policy
// validation plugin (Validations.of(app).addPlugins), so it runs once per
// synthesis (`cdk synth`, app.Synth, assertions.Template_FromStack) on the
// final templates of every stack, nested stacks and stages included, after
// every aspect, override and removal policy the app applies. It checks two
// things.
//
// Invariants: each resource the construct protects (the table, its managed
// policy, its key, the backup vault, the journal's bucket, bucket policy and
// key) still holds what the construct wrote: deletion protection, Retain,
// point-in-time recovery and its window, no TTL, and each statement of its
// resource, bucket, key or vault policy exactly as written (the caller's
// own statements beside them are allowed). The construct records what each
// must look like when it builds it (registry.protected); the guard finds
// them in the templates by logical id.
//
// Write grants: it reads every IAM policy in the templates, however it was
// made (an L2 grant, addToPolicy, an L1 CfnPolicy, the inline policies of a
// role, user or group, an IAM Identity Center permission set, a document
// given as a JSON string, the table's own resource policy), and the AWS
// managed policies attached by ARN, and reports a violation when an Allow
// statement's actions (wildcards and NotAction included) cover an action the
// construct denies (DenyActions) and its resources can name an append-only
// table, an index, its stream, a backup or its global-table ARN. It follows
// Ref, Fn::GetAtt, Fn::Join, Fn::Sub (with variables), Fn::Select and
// Fn::Split, Fn::If, imports, nested stacks' parameters and outputs; what it
// cannot follow (an SSM parameter, a template parameter, a custom resource
// such as a cross-Region reference) is taken to be the table. A statement on
// Resource "*" is an error for a table in EnforceIdentityOnlyOthersCanModify
// mode, where nothing else stops it, and a warning for one in
// EnforceTableWide mode, whose resource policy denies it anyway.
//
// Its errors have severity "fatal", which CDK's Validations.acknowledge
// cannot silence: UnsafeAcknowledgeWriteGrant, written into the template,
// is the one way to accept a write.
type guard struct {
	registry *registry
}

// guardVersion is the guard's version: 3 reads the construct's description
// of what it protects from the templates (check.TableKey).
const guardVersion = "3"

// Name implements awscdk.IPolicyValidationPlugin.
func (g *guard) Name() *string { return jsii.String("appendonly-write-grant-guard") }

// Version implements awscdk.IPolicyValidationPlugin.
func (g *guard) Version() *string { return jsii.String(guardVersion) }

// RuleIds implements awscdk.IPolicyValidationPlugin.
func (g *guard) RuleIds() *[]*string {
	return jsii.Strings(check.RuleWriteGrant, check.RuleWriteGrantOnStar, check.RuleInvariant)
}

// Validate implements awscdk.IPolicyValidationPlugin. It asks the jsii
// kernel for the template paths and, once per stack that holds protected
// resources, for their logical ids and policy statements, and reads the rest
// (the templates, each stack's path and environment from the cloud
// assembly's manifest.json, nested stacks through the asset manifests) from
// disk: each call into the kernel from inside a validation callback costs
// about a millisecond.
func (g *guard) Validate(ctx awscdk.IPolicyValidationContext) *awscdk.PolicyValidationPluginReport {
	start := time.Now()
	defer func() { g.registry.guardTime += time.Since(start) }()
	fail := func(err error) *awscdk.PolicyValidationPluginReport {
		return &awscdk.PolicyValidationPluginReport{Success: jsii.Bool(false), Violations: &[]*awscdk.PolicyViolation{{
			RuleName:           jsii.String(check.RuleWriteGrant),
			Description:        jsii.String("appendonly: " + err.Error()),
			Severity:           jsii.String(check.Fatal),
			ViolatingResources: &[]*awscdk.PolicyViolatingResource{},
		}}}
	}
	var paths []string
	for _, p := range *ctx.TemplatePaths() {
		paths = append(paths, *p)
	}
	asm, err := check.ReadTemplates(paths)
	if err != nil {
		return fail(err)
	}
	records, err := g.registry.resolve()
	if err != nil {
		return fail(err)
	}
	findings := asm.Check(records, g.registry.existing)
	// The templates must say what the registry knows, so that appendonly
	// check, given the cloud assembly alone, checks the same.
	findings = append(findings, check.SameDescription(asm, records, g.registry.existing)...)
	if len(findings) > 0 {
		// Name constructs by their paths: a walk of the tree, made only
		// when there is something to report.
		names := g.constructPaths()
		for i := range findings {
			findings[i].Message = names.Replace(findings[i].Message)
			findings[i].Fix = names.Replace(findings[i].Fix)
		}
	}
	report := &awscdk.PolicyValidationPluginReport{Success: jsii.Bool(true), Violations: &[]*awscdk.PolicyViolation{}}
	for _, v := range findings {
		if v.Severity == check.Fatal {
			report.Success = jsii.Bool(false)
		}
		*report.Violations = append(*report.Violations, &awscdk.PolicyViolation{
			RuleName:    jsii.String(v.Rule),
			Description: jsii.String(v.Message),
			Fix:         jsii.String(v.Fix),
			Severity:    jsii.String(v.Severity),
			ViolatingResources: &[]*awscdk.PolicyViolatingResource{{
				ResourceLogicalId: jsii.String(v.LogicalID),
				TemplatePath:      jsii.String(v.File),
				Locations:         jsii.Strings(v.Location),
			}},
		})
	}
	return report
}
