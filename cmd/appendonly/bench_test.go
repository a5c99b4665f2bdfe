package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/ddbexport"
	"github.com/appendonly/appendonly/journal"
)

// TestMain runs the command itself when the benchmark below starts this
// test binary as a child, so that the child's peak memory is verify's.
func TestMain(m *testing.M) {
	if os.Getenv("APPENDONLY_BENCH_CHILD") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, nil))
	}
	os.Exit(m.Run())
}

// BenchmarkVerifyMemory runs a full `appendonly verify --dir --export`, as
// a process of its own, over journals and exports of 10^5, 10^6 and 10^7
// items of 1 KB, and reports its peak resident memory (maxrss-MiB) and its
// rate. The journals and exports are built once, by the sequencer in
// batches of 10,000, into $APPENDONLY_BENCH_CACHE (default a directory in
// the system's temporary directory): some 2.6 GB a million items, 26 GB
// and most of an hour at 10^7.
//
//	go test -run '^$' -bench VerifyMemory -benchtime 1x ./cmd/appendonly
//	go test -run '^$' -bench 'VerifyMemory/items=1e5' -benchtime 1x ./cmd/appendonly
func BenchmarkVerifyMemory(b *testing.B) {
	for _, n := range []int{1e5, 1e6, 1e7} {
		b.Run(fmt.Sprintf("items=1e%d", len(strconv.Itoa(n))-1), func(b *testing.B) {
			dir, vkey := benchJournal(b, n)
			b.ResetTimer()
			var peak int64
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(os.Args[0], "verify", "--dir", filepath.Join(dir, "journal"), "--verifier-key", vkey,
					"--export", filepath.Join(dir, "export"), "--settle", "0s")
				cmd.Env = append(os.Environ(), "APPENDONLY_BENCH_CHILD=1")
				out, err := cmd.Output()
				if err != nil || !strings.Contains(string(out), "intact") || !strings.Contains(string(out), fmt.Sprintf(": %d items", n)) {
					b.Fatalf("verify: %v\n%s", err, out)
				}
				peak = max(peak, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) // KiB on Linux
			}
			b.StopTimer()
			b.ReportMetric(float64(peak)/1024, "maxrss-MiB")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// benchJournal builds, or finds built, a journal of n items of 1 KB in a
// directory and an export of the same table.
func benchJournal(b *testing.B, n int) (dir, vkey string) {
	b.Helper()
	cache := os.Getenv("APPENDONLY_BENCH_CACHE")
	if cache == "" {
		cache = filepath.Join(os.TempDir(), "appendonly-bench")
	}
	dir = filepath.Join(cache, fmt.Sprintf("verify-%d", n))
	if key, err := os.ReadFile(filepath.Join(dir, "built")); err == nil {
		return dir, string(key)
	}
	_ = os.RemoveAll(dir)
	skey, vkey, err := note.GenerateKey(rand.Reader, tableArn)
	if err != nil {
		b.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	seq := &journal.Sequencer{Store: &journal.DirStore{Dir: filepath.Join(dir, "journal")}, Signer: signer, Verifier: verifier, Origin: tableArn}
	exp, err := ddbexport.NewWriter(filepath.Join(dir, "export"), tableArn, time.Unix(1764547200+int64(n), 0))
	if err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("x", 1000)
	start := time.Now()
	for i := 0; i < n; i += 10000 {
		var batch []journal.Record
		for j := i; j < min(i+10000, n); j++ {
			key := map[string]types.AttributeValue{"Artist": &types.AttributeValueMemberS{Value: fmt.Sprintf("artist-%04d", j%1000)},
				"SongTitle": &types.AttributeValueMemberS{Value: fmt.Sprintf("song-%09d", j)}}
			item := map[string]types.AttributeValue{"Artist": key["Artist"], "SongTitle": key["SongTitle"],
				"Year": &types.AttributeValueMemberN{Value: strconv.Itoa(1950 + j%70)}, "Lyrics": &types.AttributeValueMemberS{Value: body}}
			batch = append(batch, journal.Record{EventID: fmt.Sprintf("event-%09d", j), Kind: journal.Insert, SequenceNumber: fmt.Sprintf("%021d", j),
				Created: time.Unix(1764547200+int64(j/1000), 0), Keys: key, NewImage: item})
			if err := exp.Add(item); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := seq.Integrate(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := exp.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "built"), []byte(vkey), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("built a journal and an export of %d items in %s", n, time.Since(start).Round(time.Second))
	return dir, vkey
}
