package check

import "testing"

func TestIntersects(t *testing.T) {
	gt := guardedTable{name: "Test-Ledger1A2B3C4D-" + generated}
	named := guardedTable{name: "Ledger", partition: "aws", region: "us-east-1", account: "111122223333"}
	for _, c := range []struct {
		pattern string
		table   guardedTable
		want    bool
	}{
		{"arn:aws:dynamodb:*:*:table/Scratch*", gt, false},
		{"arn:aws:dynamodb:*:*:table/*", gt, true},
		{"arn:aws:dynamodb:*", gt, true},
		{"arn:*", gt, true},
		{"arn:aws:s3:::bucket/*", gt, false},
		{"arn:aws:dynamodb:us-east-1:111122223333:table/Ledger", named, true},
		{"arn:aws:dynamodb:us-east-1:111122223333:table/Ledger2", named, false},
		{"arn:aws:dynamodb:us-east-1:111122223333:table/Ledger/index/*", named, true},
		{"arn:aws:dynamodb:us-east-1:111122223333:table/Ledger/backup/01", named, true},
		{"arn:aws:dynamodb::111122223333:global-table/Ledger", named, true},
		{"arn:aws:dynamodb:eu-west-1:111122223333:table/Ledger", named, false},
		{"arn:aws:dynamodb:*:*:table/Test-Ledger1A2B3C4D-" + otherRef, gt, false},
		{"arn:aws:dynamodb:*:*:table/" + unresolved, gt, true},
		{unresolved, named, true},
		{"arn:aws:dynamodb:us-east-1:111122223333:table/Test-Ledger1A2B3C4D-ABC/index/x", gt, true},
		{"arn:aws:dynamodb:us-east-1:111122223333:table/Test-Ledger1A2B3C4D-ABC/x", gt, false},
		{"arn:aws:dynamodb:us-east-1:111122223333:table/Test-Ledger1A2B3C4D-ABC/stream/2026-01-01T00:00:00.000", gt, true},
		{"arn:aws:dynamodb:*:*:table/Test-Ledger1A2B3C4D-ABC/stream/*:table/Other", gt, false},
		{"arn:aws:dynamodb:us-east-1:111122223333:table/Test-Ledger1A2B3C4D-ABC:x", gt, false},
		{"arn:aws:dynamodb:us-?ast-1:111122223333:table/Ledger", named, true},
	} {
		if got := c.table.covered(c.pattern); got != c.want {
			t.Errorf("covered(%q) of %s = %v, want %v", printable(c.pattern), printable(c.table.name), got, c.want)
		}
	}
}

func TestIntersectsEdges(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"", generated, true},
		{"", "x", false},
		{"*", "", true},
		{"a?c", "abc", true},
		{"a:c", "a" + generated + "c", false},
		{"a/c", "a" + field + "c", true},
		{"2026-01-01T00:00:00.000", streamLabel, true},
		{"index", streamLabel, false},
	} {
		if got := intersects(c.a, c.b); got != c.want {
			t.Errorf("intersects(%q, %q) = %v, want %v", printable(c.a), printable(c.b), got, c.want)
		}
	}
}
