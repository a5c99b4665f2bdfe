package check

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture copies the cloud assembly in testdata/assembly (what the
// construct synthesizes: a table, its user, a reader, a backup vault and a
// journal in another account; TestCheckReadsTheAssemblyAlone in the
// construct package keeps it current) into a temporary directory, applying
// edit to each template by name.
func fixture(t *testing.T, edit func(name string, tmpl map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("testdata/assembly/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if strings.HasSuffix(name, ".template.json") && edit != nil {
			var tmpl map[string]any
			if err := json.Unmarshal(data, &tmpl); err != nil {
				t.Fatal(err)
			}
			edit(strings.TrimSuffix(name, ".template.json"), tmpl)
			if data, err = json.MarshalIndent(tmpl, "", " "); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func resource(tmpl map[string]any, id string) map[string]any {
	return tmpl["Resources"].(map[string]any)[id].(map[string]any)
}

func props(tmpl map[string]any, id string) map[string]any {
	return resource(tmpl, id)["Properties"].(map[string]any)
}

// wantFinding runs the check on dir and wants one fatal finding whose
// message holds each of want, and nothing else.
func wantFinding(t *testing.T, dir string, want ...string) {
	t.Helper()
	findings, _, err := CheckAssembly(dir)
	if err != nil {
		t.Fatal(err)
	}
	var fatal []Finding
	for _, f := range findings {
		if f.Severity == Fatal {
			fatal = append(fatal, f)
		}
	}
	if len(fatal) != 1 {
		t.Fatalf("got %d fatal findings, want 1:\n%v", len(fatal), fatal)
	}
	for _, w := range want {
		if !strings.Contains(fatal[0].Message+" "+fatal[0].Fix, w) {
			t.Errorf("the finding does not say %q:\n%s\n%s", w, fatal[0].Message, fatal[0].Fix)
		}
	}
}

func TestTheAssemblyAsSynthesizedPasses(t *testing.T) {
	findings, tables, err := CheckAssembly(fixture(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 0 || tables != 1 {
		t.Errorf("%d tables, findings %v: want the one table and none", tables, findings)
	}
}

// TestWhatIsChangedAfterSynthIsFound: each change a careless teammate (or
// a hand on the template) makes after synthesis is found from the assembly
// alone, and named by its construct path.
func TestWhatIsChangedAfterSynthIsFound(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(name string, tmpl map[string]any)
		want []string
	}{
		{"a write grant added by hand", func(name string, tmpl map[string]any) {
			if name != "LedgerStack" {
				return
			}
			tmpl["Resources"].(map[string]any)["Backdoor"] = map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{
				"PolicyName": "backdoor", "Roles": []any{map[string]any{"Ref": "ReaderF7BF189D"}},
				"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
					"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": map[string]any{"Fn::GetAtt": []any{"Ledger0B0DA0A5", "Arn"}}}}}}}
		}, []string{"dynamodb:UpdateItem", "LedgerStack/Ledger"}},
		{"deletion protection off", func(name string, tmpl map[string]any) {
			if name == "LedgerStack" {
				props(tmpl, "Ledger0B0DA0A5")["DeletionProtectionEnabled"] = false
			}
		}, []string{"DeletionProtectionEnabled is false, should be true", "UnsafeAllowTableRemoval"}},
		{"the table's deny loosened", func(name string, tmpl map[string]any) {
			if name != "LedgerStack" {
				return
			}
			doc := props(tmpl, "Ledger0B0DA0A5")["ResourcePolicy"].(map[string]any)["PolicyDocument"].(map[string]any)
			st := doc["Statement"].([]any)[0].(map[string]any)
			st["Action"] = "dynamodb:DeleteTable"
		}, []string{"the statements the construct wrote in its policy are not as it wrote them", "DenyEveryoneOverwriteUpdateAndDeleteOfItems"}},
		{"the journal bucket's lock shortened", func(name string, tmpl map[string]any) {
			if name != "LedgerJournalStack" {
				return
			}
			for id, r := range tmpl["Resources"].(map[string]any) {
				if r.(map[string]any)["Type"] == "AWS::S3::Bucket" && strings.HasPrefix(id, "LedgerJournalBucket") {
					cfg := props(tmpl, id)["ObjectLockConfiguration"].(map[string]any)
					cfg["Rule"].(map[string]any)["DefaultRetention"].(map[string]any)["Days"] = 1
				}
			}
		}, []string{"ObjectLockConfiguration", "Journal.Lock and Journal.RetentionDays"}},
		{"the journal key's policy rewritten", func(name string, tmpl map[string]any) {
			if name != "LedgerJournalStack" {
				return
			}
			for id, r := range tmpl["Resources"].(map[string]any) {
				if r.(map[string]any)["Type"] == "AWS::KMS::Key" && strings.HasPrefix(id, "LedgerJournalKey") {
					doc := props(tmpl, id)["KeyPolicy"].(map[string]any)
					var kept []any
					for _, st := range doc["Statement"].([]any) {
						if st.(map[string]any)["Sid"] != "DenyEveryoneButSequencerSigning" {
							kept = append(kept, st)
						}
					}
					doc["Statement"] = kept
				}
			}
		}, []string{"journal key", "not as it wrote them"}},
		{"the vault retained no more", func(name string, tmpl map[string]any) {
			if name == "LedgerStack" {
				resource(tmpl, "LedgerBackupVault2CF478A4")["DeletionPolicy"] = "Delete"
			}
		}, []string{"DeletionPolicy is \"Delete\", should be \"Retain\""}},
		{"a protected resource removed", func(name string, tmpl map[string]any) {
			if name == "LedgerStack" {
				delete(tmpl["Resources"].(map[string]any), "LedgerPolicyFBF64D2C")
				delete(props(tmpl, "LedgerGroup7E3C83D5"), "ManagedPolicyArns") // a reference to it would be unknown
			}
		}, []string{"LedgerPolicyFBF64D2C", "missing from the template"}},
		{"a protected resource's description removed", func(name string, tmpl map[string]any) {
			if name == "LedgerStack" {
				delete(resource(tmpl, "Ledger0B0DA0A5")["Metadata"].(map[string]any)[TableKey].(map[string]any)["protected"].(map[string]any), "LedgerPolicyFBF64D2C")
			}
		}, []string{"lost the description"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantFinding(t, fixture(t, tc.edit), tc.want...)
		})
	}
}

// TestNoDescriptionNothingChecked: an assembly whose templates hold no
// description of an append-only table is checked for nothing, and says so.
func TestNoDescriptionNothingChecked(t *testing.T) {
	dir := fixture(t, func(name string, tmpl map[string]any) {
		if name == "LedgerStack" {
			delete(resource(tmpl, "Ledger0B0DA0A5")["Metadata"].(map[string]any), TableKey)
		}
	})
	findings, tables, err := CheckAssembly(dir)
	if err != nil || tables != 0 || len(findings) != 0 {
		t.Errorf("tables %d, findings %v, %v: want none found", tables, findings, err)
	}
	if _, _, err := CheckAssembly(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a cloud assembly") {
		t.Errorf("an empty directory: %v, want not a cloud assembly", err)
	}
}

// journalID finds the logical id of the journal stack's resource of typ
// whose id starts with prefix.
func journalID(tmpl map[string]any, typ, prefix string) string {
	for _, id := range sortedKeys(tmpl["Resources"].(map[string]any)) {
		if resource(tmpl, id)["Type"] == typ && strings.HasPrefix(id, prefix) {
			return id
		}
	}
	panic("no " + typ + " " + prefix)
}

// TestEveryWayTheJournalIsUndoneIsFound: the journal's feed, sequencer,
// bucket and key, changed in each way issue #26 lists, from the assembly
// alone.
func TestEveryWayTheJournalIsUndoneIsFound(t *testing.T) {
	const lambda, mapping, bucket, key = "AWS::Lambda::Function", "AWS::Lambda::EventSourceMapping", "AWS::S3::Bucket", "AWS::KMS::Key"
	add := func(tmpl map[string]any, id string, r map[string]any) { tmpl["Resources"].(map[string]any)[id] = r }
	for _, tc := range []struct {
		name string
		edit func(tmpl map[string]any)
		want string
	}{
		{"the mapping disabled", func(tm map[string]any) { props(tm, journalID(tm, mapping, "LedgerSequencerStream"))["Enabled"] = false }, "it is disabled"},
		{"the mapping filtered", func(tm map[string]any) {
			props(tm, journalID(tm, mapping, "LedgerSequencerStream"))["FilterCriteria"] = map[string]any{"Filters": []any{map[string]any{"Pattern": `{"eventName":["INSERT"]}`}}}
		}, "FilterCriteria"},
		{"the mapping's retries bounded", func(tm map[string]any) {
			props(tm, journalID(tm, mapping, "LedgerSequencerStream"))["MaximumRetryAttempts"] = 2
		}, "MaximumRetryAttempts is 2"},
		{"the mapping removed", func(tm map[string]any) {
			delete(tm["Resources"].(map[string]any), journalID(tm, mapping, "LedgerSequencerStream"))
		}, "missing from the template"},
		{"a layer added", func(tm map[string]any) {
			props(tm, journalID(tm, lambda, "LedgerSequencer"))["Layers"] = []any{"arn:aws:lambda:eu-west-1:444455556666:layer:x:1"}
		}, "it has layers"},
		{"reserved concurrency 0", func(tm map[string]any) {
			props(tm, journalID(tm, lambda, "LedgerSequencer"))["ReservedConcurrentExecutions"] = 0
		}, "reserved concurrency is 0"},
		{"its code replaced", func(tm map[string]any) {
			props(tm, journalID(tm, lambda, "LedgerSequencer"))["Code"] = map[string]any{"S3Bucket": "elsewhere", "S3Key": "other.zip"}
		}, "it was replaced"},
		{"its bucket variable pointed elsewhere", func(tm map[string]any) {
			props(tm, journalID(tm, lambda, "LedgerSequencer"))["Environment"].(map[string]any)["Variables"].(map[string]any)["JOURNAL_BUCKET"] = "decoy"
		}, "JOURNAL_BUCKET is \"decoy\""},
		{"its role trusting the account", func(tm map[string]any) {
			doc := props(tm, journalID(tm, "AWS::IAM::Role", "LedgerSequencerRole"))["AssumeRolePolicyDocument"].(map[string]any)
			doc["Statement"] = append(doc["Statement"].([]any), map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"AWS": "arn:aws:iam::444455556666:root"}})
		}, "not only by Lambda"},
		{"an invoke permission", func(tm map[string]any) {
			add(tm, "Invoke", map[string]any{"Type": "AWS::Lambda::Permission", "Properties": map[string]any{"Action": "lambda:InvokeFunction",
				"FunctionName": map[string]any{"Fn::GetAtt": []any{journalID(tm, lambda, "LedgerSequencer"), "Arn"}}, "Principal": "444455556666"}})
		}, "invoke the sequencer"},
		{"a second mapping", func(tm map[string]any) {
			add(tm, "Other", map[string]any{"Type": mapping, "Properties": map[string]any{"EventSourceArn": "arn:aws:dynamodb:eu-west-1:444455556666:table/Decoy/stream/x",
				"FunctionName": map[string]any{"Ref": journalID(tm, lambda, "LedgerSequencer")}, "StartingPosition": "LATEST"}})
		}, "it feeds the sequencer from"},
		{"a second bucket policy", func(tm map[string]any) {
			add(tm, "Replacement", map[string]any{"Type": "AWS::S3::BucketPolicy", "Properties": map[string]any{
				"Bucket": map[string]any{"Ref": journalID(tm, bucket, "LedgerJournalBucket")}, "PolicyDocument": map[string]any{"Statement": []any{}}}})
		}, "replaces the journal bucket's policy"},
		{"a lifecycle rule expiring versions", func(tm map[string]any) {
			lc := props(tm, journalID(tm, bucket, "LedgerJournalBucket"))["LifecycleConfiguration"].(map[string]any)
			lc["Rules"] = append(lc["Rules"].([]any), map[string]any{"Id": "Tidy", "Status": "Enabled", "NoncurrentVersionExpiration": map[string]any{"NoncurrentDays": 1}})
		}, "would expire or move"},
		{"the bucket's encryption moved to an app key", func(tm map[string]any) {
			enc := props(tm, journalID(tm, bucket, "LedgerJournalBucket"))["BucketEncryption"].(map[string]any)["ServerSideEncryptionConfiguration"].([]any)[0].(map[string]any)
			enc["ServerSideEncryptionByDefault"].(map[string]any)["KMSMasterKeyID"] = "arn:aws:kms:eu-west-1:444455556666:key/x"
		}, "whoever controls that key"},
		{"the key disabled", func(tm map[string]any) { props(tm, journalID(tm, key, "LedgerJournalKey"))["Enabled"] = false }, "no checkpoint is signed"},
		{"the key multi-Region", func(tm map[string]any) { props(tm, journalID(tm, key, "LedgerJournalKey"))["MultiRegion"] = true }, "multi-Region"},
		{"lambda:UpdateFunctionCode on the sequencer granted", func(tm map[string]any) {
			add(tm, "CI", map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{"PolicyName": "Deploy",
				"Roles": []any{"ci"}, "PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
					map[string]any{"Effect": "Allow", "Action": "lambda:UpdateFunctionCode", "Resource": map[string]any{"Fn::GetAtt": []any{journalID(tm, lambda, "LedgerSequencer"), "Arn"}}}}}}})
		}, "allows lambda:UpdateFunctionCode on the sequencer of the journal"},
		{"iam:PassRole of its role granted", func(tm map[string]any) {
			add(tm, "CI", map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{"PolicyName": "Deploy",
				"Roles": []any{"ci"}, "PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
					map[string]any{"Effect": "Allow", "Action": []any{"iam:PassRole", "s3:GetObject"}, "Resource": map[string]any{"Fn::GetAtt": []any{journalID(tm, "AWS::IAM::Role", "LedgerSequencerRole"), "Arn"}}}}}}})
		}, "allows iam:PassRole on the sequencer role of the journal"},
		{"lambda:* on every resource granted", func(tm map[string]any) {
			add(tm, "CI", map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{"PolicyName": "Deploy",
				"Roles": []any{"ci"}, "PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
					map[string]any{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}}}}})
		}, `on resource "*", which may be the journal's sequencer`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantFinding(t, fixture(t, func(name string, tmpl map[string]any) {
				if name == "LedgerJournalStack" {
					tc.edit(tmpl)
				}
			}), tc.want)
		})
	}
}

// TestWhatTheCheckCannotReadCountsAsAGrant: values built at deploy time or
// hidden behind a condition, a parameter or a dynamic reference, templates
// of stack sets and nested stacks, and SAM, each read or counted as
// writing to the table.
func TestWhatTheCheckCannotReadCountsAsAGrant(t *testing.T) {
	tableArn := map[string]any{"Fn::GetAtt": []any{"Ledger0B0DA0A5", "Arn"}}
	policy := func(statements ...any) map[string]any {
		return map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{"PolicyName": "p", "Roles": []any{map[string]any{"Ref": "ReaderF7BF189D"}},
			"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": statements}}}
	}
	allow := func(action, resource any) map[string]any {
		return map[string]any{"Effect": "Allow", "Action": action, "Resource": resource}
	}
	for _, tc := range []struct {
		name string
		edit func(tmpl map[string]any)
		want []string
	}{
		{"an action built with Fn::Join", func(tm map[string]any) {
			tm["Resources"].(map[string]any)["P"] = policy(allow(map[string]any{"Fn::Join": []any{"", []any{"dynamodb:", "UpdateItem"}}}, tableArn))
		}, []string{"allows dynamodb:UpdateItem on the append-only table"}},
		{"a statement behind Fn::If", func(tm map[string]any) {
			tm["Resources"].(map[string]any)["P"] = policy(map[string]any{"Fn::If": []any{"Later", allow("dynamodb:DeleteItem", tableArn), map[string]any{"Ref": "AWS::NoValue"}}})
		}, []string{"allows dynamodb:DeleteItem"}},
		{"an effect behind Fn::If", func(tm map[string]any) {
			st := allow("dynamodb:PutItem", tableArn)
			st["Effect"] = map[string]any{"Fn::If": []any{"Later", "Allow", "Deny"}}
			tm["Resources"].(map[string]any)["P"] = policy(st)
		}, []string{"allows dynamodb:PutItem"}},
		{"a resource from a dynamic reference", func(tm map[string]any) {
			tm["Resources"].(map[string]any)["P"] = policy(allow("dynamodb:PutItem", "{{resolve:ssm:/ledger/arn}}"))
		}, []string{"cannot resolve"}},
		{"an action from a dynamic reference", func(tm map[string]any) {
			tm["Resources"].(map[string]any)["P"] = policy(allow("{{resolve:ssm:/ledger/action}}", tableArn))
		}, []string{"dynamodb:BatchWriteItem"}},
		{"a managed policy from a parameter", func(tm map[string]any) {
			tm["Parameters"].(map[string]any)["Extra"] = map[string]any{"Type": "String", "Default": "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"}
			props(tm, "ReaderF7BF189D")["ManagedPolicyArns"] = []any{map[string]any{"Ref": "Extra"}}
		}, []string{"attaches a managed policy the check cannot name"}},
		{"a stack set writing to the table", func(tm map[string]any) {
			body := `{"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}, "Policies": [{"PolicyName": "w", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": "arn:aws:dynamodb:*:*:table/Ledger"}]}}]}}}}`
			tm["Resources"].(map[string]any)["Set"] = map[string]any{"Type": "AWS::CloudFormation::StackSet", "Properties": map[string]any{"StackSetName": "s", "PermissionModel": "SELF_MANAGED", "TemplateBody": body}}
		}, []string{"allows dynamodb:UpdateItem on the append-only table", "LedgerStack/Set"}},
		{"a stack set by URL", func(tm map[string]any) {
			tm["Resources"].(map[string]any)["Set"] = map[string]any{"Type": "AWS::CloudFormation::StackSet", "Properties": map[string]any{"StackSetName": "s", "PermissionModel": "SELF_MANAGED", "TemplateURL": "https://example.com/t.json"}}
		}, []string{"cannot read the template of", "stack set's template"}},
		{"a nested stack from outside the app", func(tm map[string]any) {
			tm["Resources"].(map[string]any)["Nested"] = map[string]any{"Type": "AWS::CloudFormation::Stack", "Properties": map[string]any{"TemplateURL": "https://example.com/t.json"}}
		}, []string{"cannot read the template of", "not a file of the cloud assembly"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantFinding(t, fixture(t, func(name string, tmpl map[string]any) {
				if name == "LedgerStack" {
					if tmpl["Parameters"] == nil {
						tmpl["Parameters"] = map[string]any{}
					}
					tc.edit(tmpl)
				}
			}), tc.want...)
		})
	}
}

// TestATransformedStackIsRefusedAndItsSAMRead: the table's stack with a
// Transform is refused (the check would read it before the macro runs),
// and a SAM function's DynamoDBCrudPolicy on the table is a write grant.
func TestATransformedStackIsRefusedAndItsSAMRead(t *testing.T) {
	dir := fixture(t, func(name string, tmpl map[string]any) {
		if name != "LedgerStack" {
			return
		}
		tmpl["Transform"] = "AWS::Serverless-2016-10-31"
		tmpl["Resources"].(map[string]any)["Fn"] = map[string]any{"Type": "AWS::Serverless::Function", "Properties": map[string]any{
			"Runtime": "provided.al2023", "Handler": "bootstrap", "CodeUri": "s3://b/k",
			"Policies": []any{map[string]any{"DynamoDBCrudPolicy": map[string]any{"TableName": map[string]any{"Ref": "Ledger0B0DA0A5"}}}}}}
	})
	findings, _, err := CheckAssembly(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings {
		got = append(got, f.Location+": "+f.Message)
	}
	all := strings.Join(got, "\n")
	if len(findings) != 2 || !strings.Contains(all, "Transform: appendonly: the stack LedgerStack holds an append-only table") ||
		!strings.Contains(all, "DynamoDBCrudPolicy of LedgerStack/Fn writes to the append-only table") {
		t.Errorf("got\n%s\nwant the stack refused and the policy template named", all)
	}
}

// TestTheTablesProtectionBesidesItsPolicy: its name from a parameter
// counts as any name; its key moved to one the construct does not
// protect; an exempt break-glass role anyone may assume.
func TestTheTablesProtectionBesidesItsPolicy(t *testing.T) {
	t.Run("the table's name from a parameter", func(t *testing.T) {
		wantFinding(t, fixture(t, func(name string, tm map[string]any) {
			if name != "LedgerStack" {
				return
			}
			tm["Parameters"].(map[string]any)["Name"] = map[string]any{"Type": "String"}
			props(tm, "Ledger0B0DA0A5")["TableName"] = map[string]any{"Ref": "Name"}
			tm["Resources"].(map[string]any)["P"] = map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{"PolicyName": "p",
				"Roles": []any{map[string]any{"Ref": "ReaderF7BF189D"}}, "PolicyDocument": map[string]any{"Statement": []any{
					map[string]any{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "arn:aws:dynamodb:eu-west-1:111122223333:table/Scratch"}}}}}
		}), "allows dynamodb:PutItem on the append-only table")
	})
	t.Run("its generated name written out in another stack", func(t *testing.T) {
		wantFinding(t, fixture(t, func(name string, tm map[string]any) {
			switch name {
			case "LedgerStack":
				delete(props(tm, "Ledger0B0DA0A5"), "TableName")
			case "LedgerJournalStack":
				// As a consumer in another account or Region writes it:
				// CloudFormation's <stack>-<logical id>-<13 characters>.
				tm["Resources"].(map[string]any)["P"] = map[string]any{"Type": "AWS::IAM::ManagedPolicy", "Properties": map[string]any{
					"PolicyDocument": map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": "dynamodb:UpdateItem",
						"Resource": "arn:aws:dynamodb:eu-west-1:111122223333:table/LedgerStack-Ledger0B0DA0A5-1QW2E3R4T5Y6U"}}}}}
			}
		}), "allows dynamodb:UpdateItem on the append-only table")
	})
	t.Run("an app key on the table", func(t *testing.T) {
		wantFinding(t, fixture(t, func(name string, tm map[string]any) {
			if name == "LedgerStack" {
				props(tm, "Ledger0B0DA0A5")["SSESpecification"] = map[string]any{"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": "arn:aws:kms:eu-west-1:111122223333:key/loose"}
			}
		}), "SSESpecification is", "TableProps.Encryption")
	})
	t.Run("an exempt role anyone may assume", func(t *testing.T) {
		wantFinding(t, fixture(t, func(name string, tm map[string]any) {
			if name != "LedgerStack" {
				return
			}
			tm["Resources"].(map[string]any)["BreakGlass"] = map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{"RoleName": "BreakGlass",
				"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"AWS": "*"}}}}}}
		}), "may be assumed by anyone")
	})
}

// TestAnAcknowledgedPolicyAttachedByName: a managed policy acknowledged on
// itself writes to the table; another role attaches it by its ARN, written
// out: the acknowledgement does not reach that role.
func TestAnAcknowledgedPolicyAttachedByName(t *testing.T) {
	wantFinding(t, fixture(t, func(name string, tm map[string]any) {
		if name != "LedgerStack" {
			return
		}
		res := tm["Resources"].(map[string]any)
		res["Loose"] = map[string]any{"Type": "AWS::IAM::ManagedPolicy", "Metadata": map[string]any{AcknowledgedKey: "a one-off migration"},
			"Properties": map[string]any{"ManagedPolicyName": "loose-writes", "PolicyDocument": map[string]any{"Statement": []any{
				map[string]any{"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": map[string]any{"Fn::GetAtt": []any{"Ledger0B0DA0A5", "Arn"}}}}}}}
		res["Other"] = map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{"AssumeRolePolicyDocument": map[string]any{},
			"ManagedPolicyArns": []any{map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::111122223333:policy/loose-writes"}}}}}}
	}), "the acknowledged managed policy LedgerStack/Loose, attached by name to LedgerStack/Other", "dynamodb:UpdateItem")
}

// A grant on "*" of the sequencer's control actions in a stack of another
// account than the journal's cannot reach the sequencer: no finding.
func TestControlOnStarInAnotherAccountPasses(t *testing.T) {
	dir := fixture(t, func(name string, tm map[string]any) {
		if name == "LedgerStack" {
			tm["Resources"].(map[string]any)["CI"] = map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{"PolicyName": "Deploy",
				"Roles": []any{"ci"}, "PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
					map[string]any{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}}}}}
		}
	})
	findings, _, err := CheckAssembly(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Errorf("got %s: %s", f.Severity, f.Message)
	}
}
