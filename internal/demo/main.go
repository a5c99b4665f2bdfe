// Command demo shows the journal end to end with no AWS account: it appends
// to a table (a local fake of DynamoDB), sequences the table's stream into a
// journal in a directory, verifies it, proves an item, then changes an item
// past every policy, as the account's root user could, and verifies again,
// which names the item. It leaves the journal's files in the directory it
// prints, with the verifier key, so that anyone can look at them.
//
//	make demo   (or go run ./internal/demo)
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/ddbexport"
	"github.com/appendonly/appendonly/internal/fakedynamo"
	"github.com/appendonly/appendonly/journal"
	"github.com/appendonly/appendonly/ledger"
)

const origin = "arn:aws:dynamodb:us-east-1:111122223333:table/Music"

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	ctx := context.Background()
	fake := fakedynamo.New(map[string]fakedynamo.Table{"Music": {PartitionKey: "Artist", SortKey: "SongTitle"}})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	db := fakedynamo.NewClient(srv.URL)

	top, err := os.MkdirTemp("", "appendonly-demo-")
	if err != nil {
		return err
	}
	dir := filepath.Join(top, "journal")
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return err
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	store := &journal.DirStore{Dir: dir}
	seq := &journal.Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: origin}

	fmt.Fprintln(w, "1. Append five songs with PartiQL INSERT (the table denies every other write).")
	for i, title := range []string{"PartiQL Rocks", "Append Only", "Never Overwrite", "Locked Forever", "Merkle Tree"} {
		item := map[string]types.AttributeValue{
			"Artist": &types.AttributeValueMemberS{Value: "Acme Band"}, "SongTitle": &types.AttributeValueMemberS{Value: title},
			"Year": &types.AttributeValueMemberN{Value: fmt.Sprint(2020 + i)},
		}
		if err := ledger.Append(ctx, db, "Music", item); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "2. The sequencer journals the table's stream and signs a checkpoint.")
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(fake.StreamEvent(0, 0), &ev); err != nil {
		return err
	}
	records, err := journal.FromLambda(ev)
	if err != nil {
		return err
	}
	res, err := seq.Integrate(ctx, records)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   %d entries; checkpoint:\n%s\n", res.Size, indent(string(res.Checkpoint)))

	fmt.Fprintln(w, "3. Verify: every checkpoint, every entry, the table against the journal.")
	problems, err := verify(ctx, db, store, verifier)
	if err != nil {
		return err
	}
	if len(problems) != 0 {
		return fmt.Errorf("the untouched journal has problems: %v", problems)
	}
	fmt.Fprintln(w, "   intact")
	intact := filepath.Join(top, "export-intact")
	if err := export(fake, intact); err != nil {
		return err
	}

	fmt.Fprintln(w, "4. Prove one song, checkable with nothing but the proof and the verifier key.")
	key, _ := ledger.Encode(map[string]types.AttributeValue{
		"Artist": &types.AttributeValueMemberS{Value: "Acme Band"}, "SongTitle": &types.AttributeValueMemberS{Value: "Never Overwrite"}})
	h, err := journal.Prove(ctx, store, verifier, key, nil)
	if err != nil {
		return err
	}
	p := h.Proofs[0]
	if _, _, err := p.Check(verifier); err != nil {
		return err
	}
	text, _ := p.MarshalText()
	proofFile := filepath.Join(top, "never-overwrite.tlog-proof")
	if err := os.WriteFile(proofFile, text, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "   entry %d is in the log, %d hashes of proof: %s (C2SP tlog-proof@v1)\n", p.Index, len(p.Hashes), proofFile)

	fmt.Fprintln(w, "5. Tamper as the root user could: change a song's year in the table, past every policy.")
	fake.Put("Music", fakedynamo.Item{"Artist": map[string]any{"S": "Acme Band"}, "SongTitle": map[string]any{"S": "Locked Forever"}, "Year": map[string]any{"N": "1999"}})

	fmt.Fprintln(w, "6. Verify again.")
	problems, err = verify(ctx, db, store, verifier)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(w, "   "+p.String())
	}
	if len(problems) != 1 || problems[0].What != "changed" {
		return fmt.Errorf("want exactly the changed song found, got %v", problems)
	}
	tampered := filepath.Join(top, "export-tampered")
	if err := export(fake, tampered); err != nil {
		return err
	}
	keyFile := filepath.Join(top, "verifier-key")
	if err := os.WriteFile(keyFile, []byte(vkey+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nThe journal's files (C2SP tlog-tiles layout, as in the bucket): %s\n", dir)
	fmt.Fprintf(w, "Its verifier key: %s (in %s)\n", vkey, keyFile)
	fmt.Fprintf(w, "The table, exported as DynamoDB exports it, before and after the change: %s, %s\n", intact, tampered)
	fmt.Fprintf(w, "\nGo on with the command line, offline: no AWS account, no credentials.\n")
	fmt.Fprintf(w, "  go run ./cmd/appendonly verify --dir %s --verifier-key @%s --export %s   # exit 0: intact\n", dir, keyFile, intact)
	fmt.Fprintf(w, "  go run ./cmd/appendonly verify --dir %s --verifier-key @%s --export %s   # exit 1: names the changed song\n", dir, keyFile, tampered)
	fmt.Fprintf(w, "  go run ./cmd/appendonly prove --dir %s --verifier-key @%s --key '{\"Artist\": \"Acme Band\", \"SongTitle\": \"Merkle Tree\"}' --out %s   # exit 0\n",
		dir, keyFile, filepath.Join(top, "merkle-tree.tlog-proof"))
	fmt.Fprintf(w, "  go run ./cmd/appendonly check-proof --verifier-key @%s %s   # exit 0: the proof holds\n", keyFile, proofFile)
	return nil
}

// export writes the fake's table as a DynamoDB export (full, DynamoDB
// JSON) would lay it out in S3 under AWSDynamoDB/<export id>/.
func export(fake *fakedynamo.Server, dir string) error {
	w, err := ddbexport.NewWriter(dir, origin, time.Now())
	if err != nil {
		return err
	}
	for _, it := range fake.Items("Music") {
		data, err := json.Marshal(it)
		if err != nil {
			return err
		}
		item, err := ddbexport.DecodeItem(data)
		if err != nil {
			return err
		}
		if err := w.Add(item); err != nil {
			return err
		}
	}
	return w.Close()
}

func verify(ctx context.Context, db *dynamodb.Client, store journal.Store, v note.Verifier) ([]journal.Problem, error) {
	l, err := (&journal.Verifier{Store: store, Key: v}).Verify(ctx)
	if err != nil {
		return nil, err
	}
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Music"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	var items []journal.TableItem
	for _, it := range out.Items {
		k, _ := ledger.Encode(map[string]types.AttributeValue{"Artist": it["Artist"], "SongTitle": it["SongTitle"]})
		e, _ := ledger.Encode(it)
		items = append(items, journal.TableItem{Key: k, Item: e})
	}
	problems, _ := journal.CompareTable(l, items)
	return append(l.Problems, problems...), nil
}

func indent(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("     " + line + "\n")
	}
	return b.String()
}
