package cfnguard

import (
	"slices"
	"testing"
)

// The checker must be able to fail: a table without SSESpecification fails
// CT.DYNAMODB.PR.2, the same table with it passes.
func TestFailuresNamesTheFailingRule(t *testing.T) {
	got, err := Failures(map[string][]byte{
		"plain.json":     []byte(`{"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}}}}`),
		"encrypted.json": []byte(`{"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}, "SSESpecification": {"SSEEnabled": true}}}}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"dynamodb_table_encrypted_kms_check"}; !slices.Equal(got["plain.json"], want) {
		t.Errorf("plain.json: got failing rules %v, want %v", got["plain.json"], want)
	}
	if f := got["encrypted.json"]; len(f) != 0 {
		t.Errorf("encrypted.json: got failing rules %v, want none", f)
	}
}
