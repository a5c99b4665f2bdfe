package appendonly_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/constructs/appendonly"
	"github.com/appendonly/appendonly/internal/cdktest"
	"github.com/appendonly/appendonly/internal/iamsim"
)

func withBackup(b *appendonly.BackupProps) *appendonly.Props {
	p := minimalProps()
	p.Backup = b
	return p
}

const centralVault = "arn:aws:backup:eu-west-1:444455556666:backup-vault:central"

func TestBackupValidationErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		b    appendonly.BackupProps
		want string
	}{
		{"retention too long", appendonly.BackupProps{RetentionDays: 40000}, "Backup.RetentionDays: 40000 is out of range"},
		{"negative retention", appendonly.BackupProps{RetentionDays: -1}, "Backup.RetentionDays: -1 is out of range"},
		{"unknown lock", appendonly.BackupProps{Lock: 9}, "Backup.Lock: 9 is not a mode"},
		{"cooling-off too short", appendonly.BackupProps{Lock: appendonly.VaultLockCompliance, ChangeableForDays: 2},
			"Backup.ChangeableForDays: 2 is too short: AWS Backup requires at least 3 days"},
		{"cooling-off in governance mode", appendonly.BackupProps{ChangeableForDays: 5},
			"Backup.ChangeableForDays: only with Lock VaultLockCompliance"},
		{"lock maximum below retention", appendonly.BackupProps{RetentionDays: 35, MaxRetentionDays: 30},
			"Backup.MaxRetentionDays: 30 must be at least RetentionDays (35)"},
		{"cold storage too late", appendonly.BackupProps{RetentionDays: 120, ColdStorageAfterDays: 60},
			"Backup.ColdStorageAfterDays: 60 leaves 60 days in cold storage before RetentionDays (120) ends: AWS Backup requires at least 90"},
		{"copy target not a vault", appendonly.BackupProps{CopyToVaultArn: "arn:aws:s3:::bucket"},
			`Backup.CopyToVaultArn: "arn:aws:s3:::bucket" is not a backup vault ARN`},
		{"copy retention without a copy", appendonly.BackupProps{CopyRetentionDays: 30}, "Backup.CopyRetentionDays: only with CopyToVaultArn"},
		{"vault ARN not a vault", appendonly.BackupProps{VaultArn: "central"}, `Backup.VaultArn: "central" is not a backup vault ARN`},
		{"lock on a vault not ours", appendonly.BackupProps{VaultArn: centralVault, Lock: appendonly.VaultLockCompliance},
			"Backup.Lock: only for a vault the construct creates"},
		{"bad vault name", appendonly.BackupProps{VaultName: "a b"}, `Backup.VaultName: "a b" is not a valid vault name`},
		{"bad schedule", appendonly.BackupProps{Schedule: "daily"}, `Backup.Schedule: "daily" is not a schedule expression`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := appendonly.NewTable(nil, "Ledger", withBackup(&c.b))
			if err == nil || !hasLine(err.Error(), c.want) {
				t.Errorf("got error %v, want a line starting %q", err, c.want)
			}
		})
	}
}

// backupTemplate synthesizes a table with b and returns its template.
func backupTemplate(t *testing.T, b *appendonly.BackupProps, exempt ...string) cdktest.Template {
	t.Helper()
	p := withBackup(b)
	p.TableProps.TableName = jsii.String(proofTable)
	p.ExemptPrincipalArns = exempt
	return synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, p) })
}

func TestBackupSelectionNamesThisTableAndNothingElse(t *testing.T) {
	tmpl := backupTemplate(t, &appendonly.BackupProps{})
	tableID, _ := tmpl.Only(t, "AWS::DynamoDB::Table")
	_, sel := tmpl.Only(t, "AWS::Backup::BackupSelection")
	resources := props(sel)["BackupSelection"].(map[string]any)["Resources"].([]any)
	if got, want := fmt.Sprint(resources), fmt.Sprint([]any{map[string]any{"Fn::GetAtt": []any{tableID, "Arn"}}}); got != want {
		t.Errorf("got selection %s, want only the table %s", got, want)
	}
}

func TestBackupDefaults(t *testing.T) {
	tmpl := backupTemplate(t, &appendonly.BackupProps{})
	_, vault := tmpl.Only(t, "AWS::Backup::BackupVault")
	if vault["DeletionPolicy"] != "Retain" {
		t.Errorf("got vault DeletionPolicy %v, want Retain", vault["DeletionPolicy"])
	}
	lock := props(vault)["LockConfiguration"].(map[string]any)
	if lock["MinRetentionDays"] != float64(35) || lock["ChangeableForDays"] != nil {
		t.Errorf("got lock %v, want a governance lock (no ChangeableForDays) with a minimum retention of 35 days", lock)
	}
	_, plan := tmpl.Only(t, "AWS::Backup::BackupPlan")
	rule := props(plan)["BackupPlan"].(map[string]any)["BackupPlanRule"].([]any)[0].(map[string]any)
	if rule["ScheduleExpression"] != appendonly.DefaultBackupSchedule || rule["Lifecycle"].(map[string]any)["DeleteAfterDays"] != float64(35) {
		t.Errorf("got rule %v, want daily with 35 days' retention", rule)
	}
	deny := bySid(t, statementsOf(t, props(vault)["AccessPolicy"]), appendonly.SidVaultProtect)
	assertActions(t, deny, appendonly.VaultDenyActions())
}

func TestComplianceLock(t *testing.T) {
	tmpl := backupTemplate(t, &appendonly.BackupProps{Lock: appendonly.VaultLockCompliance, ChangeableForDays: 7, MaxRetentionDays: 400})
	_, vault := tmpl.Only(t, "AWS::Backup::BackupVault")
	lock := props(vault)["LockConfiguration"].(map[string]any)
	if lock["ChangeableForDays"] != float64(7) || lock["MaxRetentionDays"] != float64(400) {
		t.Errorf("got lock %v, want ChangeableForDays 7 and MaxRetentionDays 400", lock)
	}
}

// The vault's access policy, evaluated: an administrator with backup:* is
// explicitly denied deleting a recovery point, shortening its life and
// deleting the vault; an exempt principal is not.
func TestVaultAccessPolicyDeniesAdministrators(t *testing.T) {
	breakGlass := roleArn("BreakGlass")
	tmpl := backupTemplate(t, &appendonly.BackupProps{VaultName: "ledger-vault"}, breakGlass)
	env := iamsim.NewEnv(iamsim.Template(tmpl))
	_, vault := tmpl.Only(t, "AWS::Backup::BackupVault")
	policy, err := env.Resolve(props(vault)["AccessPolicy"])
	if err != nil {
		t.Fatal(err)
	}
	vaultArn := "arn:aws:backup:" + iamsim.Region + ":" + iamsim.Account + ":backup-vault:ledger-vault"
	recoveryPoint := "arn:aws:backup:" + iamsim.Region + ":" + iamsim.Account + ":recovery-point:0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
	allowBackup := iamsim.AllowAll("backup")
	var sims []iamsim.Simulation
	var want []string
	for _, c := range []struct {
		action, resource string
	}{
		{"backup:DeleteRecoveryPoint", recoveryPoint},
		{"backup:UpdateRecoveryPointLifecycle", recoveryPoint},
		{"backup:DeleteBackupVault", vaultArn},
	} {
		for _, who := range []struct{ arn, want string }{
			{roleArn("Administrator"), iamsim.ExplicitlyDenied},
			{deployerArn, iamsim.ExplicitlyDenied},
			{breakGlass, iamsim.Allowed},
		} {
			sims = append(sims, iamsim.Simulation{
				Request:          iamsim.Request{Principal: who.arn, Action: c.action, Resource: c.resource},
				IdentityPolicies: []iamsim.NamedPolicy{allowBackup},
				ResourcePolicy:   policy.(map[string]any),
			})
			want = append(want, who.want)
		}
	}
	// What the vault is for stays open: starting a backup, describing it.
	for _, action := range []string{"backup:StartBackupJob", "backup:DescribeRecoveryPoint"} {
		resource := vaultArn
		if action == "backup:DescribeRecoveryPoint" {
			resource = recoveryPoint
		}
		sims = append(sims, iamsim.Simulation{
			Request:          iamsim.Request{Principal: roleArn("Administrator"), Action: action, Resource: resource},
			IdentityPolicies: []iamsim.NamedPolicy{allowBackup},
			ResourcePolicy:   policy.(map[string]any),
		})
		want = append(want, iamsim.Allowed)
	}
	decide(t, want, sims)
}

func TestBackupToAVaultGivenByArn(t *testing.T) {
	tmpl := backupTemplate(t, &appendonly.BackupProps{VaultArn: centralVault})
	if n := len(tmpl.Resources("AWS::Backup::BackupVault")); n != 0 {
		t.Errorf("got %d vaults, want none: the recovery points go to %s", n, centralVault)
	}
	_, plan := tmpl.Only(t, "AWS::Backup::BackupPlan")
	rule := props(plan)["BackupPlan"].(map[string]any)["BackupPlanRule"].([]any)[0].(map[string]any)
	if rule["TargetBackupVault"] != "central" {
		t.Errorf("got TargetBackupVault %v, want the central vault's name", rule["TargetBackupVault"])
	}
}

func TestBackupRemovesTheBackupPlanSuppression(t *testing.T) {
	for _, on := range []bool{false, true} {
		p := minimalProps()
		if on {
			p.Backup = &appendonly.BackupProps{}
		}
		tmpl := synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, p) })
		_, table := tmpl.Only(t, "AWS::DynamoDB::Table")
		md, _ := table["Metadata"].(map[string]any)
		var ids []string
		if nag, ok := md["cdk_nag"].(map[string]any); ok {
			for _, r := range nag["rules_to_suppress"].([]any) {
				ids = append(ids, r.(map[string]any)["id"].(string))
			}
		}
		if got := slices.Contains(ids, "NIST.800.53.R5-DynamoDBInBackupPlan"); got == on {
			t.Errorf("backup %v: DynamoDBInBackupPlan suppressed: %v, want %v", on, got, !on)
		}
	}
}
