package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cloudformationinclude"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/internal/cfnguard"
	"github.com/appendonly/appendonly/internal/cfnlint"
	"github.com/appendonly/appendonly/internal/nagtest"
)

func TestAppPassesCdkNag(t *testing.T) {
	stack, err := NewMusicStack(nagtest.NewApp(t), StackName, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range nagtest.Findings(t, stack) {
		t.Error(f)
	}
}

func TestAppPassesControlTowerControls(t *testing.T) {
	failures, err := cfnguard.Failures(map[string][]byte{StackName + ".template.json": musicTemplate(t).JSON(t)})
	if err != nil {
		t.Fatal(err)
	}
	for name, rules := range failures {
		t.Errorf("%s fails AWS Control Tower's proactive controls %v", name, rules)
	}
}

// The source article's setup, as a template, against the same three
// checkers: what an enterprise reviewer would find in it. It also shows each
// checker can fail.
func TestArticleTemplateFailsTheChecks(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "article.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	failures, err := cfnguard.Failures(map[string][]byte{"article.template.json": body})
	if err != nil {
		t.Fatal(err)
	}
	wantGuard := []string{"dynamodb_table_encrypted_kms_check", "dynamodb_table_pitr_enabled_check", "iam_user_no_policies_check"}
	if got := failures["article.template.json"]; !slices.Equal(got, wantGuard) {
		t.Errorf("Control Tower controls: got failures %v, want %v", got, wantGuard)
	}

	stack := awscdk.NewStack(nagtest.NewApp(t), jsii.String("Article"), nil)
	cloudformationinclude.NewCfnInclude(stack, jsii.String("Article"), &cloudformationinclude.CfnIncludeProps{
		TemplateFile: jsii.String(filepath.Join("testdata", "article.template.json")),
	})
	var rules []string
	for _, f := range nagtest.Findings(t, stack) {
		// "level path: Rule-Id[...]: message" -> "path Rule-Id"
		level, rest, _ := strings.Cut(f, " ")
		path, msg, _ := strings.Cut(rest, ": ")
		id, _, _ := strings.Cut(msg, ": ")
		rules = append(rules, level+" "+strings.TrimPrefix(path, "/Article/Article/")+" "+id)
	}
	wantNag := []string{
		"error AppendOnlyDynamoDB AwsSolutions-IAM5[Resource::*]",
		"error AppendUser HIPAA.Security-IAMUserGroupMembership",
		"error AppendUser HIPAA.Security-IAMUserNoPolicies",
		"error AppendUser NIST.800.53.R5-IAMUserGroupMembership",
		"error AppendUser NIST.800.53.R5-IAMUserNoPolicies",
		"error AppendUser PCI.DSS.321-IAMUserGroupMembership",
		"error AppendUser PCI.DSS.321-IAMUserNoPolicies",
		"error Music HIPAA.Security-DynamoDBInBackupPlan",
		"error Music HIPAA.Security-DynamoDBPITREnabled",
		"error Music NIST.800.53.R5-DynamoDBInBackupPlan",
		"error Music NIST.800.53.R5-DynamoDBPITREnabled",
		"warning Music AwsSolutions-DDB3",
	}
	if !slices.Equal(rules, wantNag) {
		t.Errorf("cdk-nag: got findings\n%s\nwant\n%s", strings.Join(rules, "\n"), strings.Join(wantNag, "\n"))
	}

	// cfn-lint checks that a template deploys, not what it protects: the
	// article's template is valid CloudFormation.
	if err := cfnlint.Run(map[string][]byte{"article.template.json": body}); err != nil {
		t.Errorf("cfn-lint: %v", err)
	}
}
