package journal

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/appendonly/appendonly/internal/versity"
)

// TestS3StoreOnObjectLock runs the sequencer and the verifier on an S3
// server that enforces Object Lock, and checks what the journal relies on:
// Create refuses an existing object (If-None-Match), a checkpoint gains
// versions, and no locked version can be deleted, governance bypass or not.
func TestS3StoreOnObjectLock(t *testing.T) {
	for _, mode := range []s3types.ObjectLockRetentionMode{s3types.ObjectLockRetentionModeGovernance, s3types.ObjectLockRetentionModeCompliance} {
		t.Run(string(mode), func(t *testing.T) {
			client, bucket := versity.Start(t, mode)
			ctx := context.Background()
			store := &S3Store{Client: client, Bucket: bucket}
			signer, verifier, _ := newKeys(t)
			seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
			var all []Record
			for i := 0; i < 3; i++ {
				b := inserts(i*120, (i+1)*120, 50)
				all = append(all, b...)
				for d := 0; d < 2; d++ { // each batch delivered twice
					if _, err := seq.Integrate(ctx, b); err != nil {
						t.Fatal(err)
					}
				}
			}
			l := mustVerify(t, store, verifier)
			wantIntact(t, l, 360)
			if problems, _ := CompareTable(l, tableItems(t, all)); len(problems) != 0 {
				t.Errorf("got %v, want none", problems)
			}
			if len(l.Checkpoints) != 3 {
				t.Errorf("got %d checkpoint versions, want 3", len(l.Checkpoints))
			}
			if err := store.Create(ctx, EntriesPath(0, TileWidth), []byte("rewritten")); !errors.Is(err, ErrExist) {
				t.Errorf("Create over an existing bundle: got %v, want ErrExist", err)
			}
			vs, err := store.Versions(ctx, CheckpointPath)
			if err != nil || len(vs) != 3 {
				t.Fatalf("checkpoint versions: %v, %v", vs, err)
			}
			oldest := vs[0].ID
			if data, _ := store.GetVersion(ctx, CheckpointPath, oldest); !strings.Contains(string(data), "\n120\n") {
				t.Errorf("the oldest version listed is not the first checkpoint: %q", data)
			}
			// Deleting a locked version is refused; with a governance bypass
			// (which the construct's bucket policy denies to all but the
			// exempt principals) only in compliance mode.
			for _, bypass := range []bool{false, true} {
				_, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(CheckpointPath),
					VersionId: aws.String(oldest), BypassGovernanceRetention: aws.Bool(bypass)})
				allowed := bypass && mode == s3types.ObjectLockRetentionModeGovernance
				if (err == nil) != allowed {
					t.Errorf("deleting a locked checkpoint version (bypass %v): got %v, want allowed %v", bypass, err, allowed)
				}
			}
			// A delete without a version id adds a delete marker: verification
			// still reads every locked version and names the marker.
			if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(CheckpointPath)}); err != nil {
				t.Fatal(err)
			}
			l = mustVerify(t, store, verifier)
			wantProblem(t, l.Problems, "checkpoint hidden", "")
			if l.Latest.Size != 360 {
				t.Errorf("latest %d after a delete marker, want 360", l.Latest.Size)
			}

			// Delete markers over claim 0 too, and over a claim a crashed
			// sequencer left without its checkpoint: the next sequencer reads
			// S3's own listing of versions, goes on from the newest locked
			// checkpoint, reads the hidden claim, and writes no second claim
			// at either position.
			hide := func(path string) {
				t.Helper()
				if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(path)}); err != nil {
					t.Fatal(err)
				}
			}
			hide(sequencePath(0))
			// It stops after its second write: the batch sidecar, then the claim.
			crashing := &Sequencer{Store: &failingStore{Store: store, stopAfter: 2}, Signer: signer, Verifier: verifier, Origin: testOrigin}
			if _, err := crashing.Integrate(ctx, inserts(360, 400, 50)); err == nil {
				t.Fatal("the crashing sequencer did not stop")
			}
			hide(sequencePath(360))
			res, err := seq.Integrate(ctx, inserts(400, 410, 50))
			if err != nil {
				t.Fatal(err)
			}
			if res.Size != 410 || len(res.Tampering) < 2 {
				t.Errorf("size %d, tampering %q: want 410, the hidden checkpoint and the hidden claim reported", res.Size, res.Tampering)
			}
			for _, path := range []string{sequencePath(0), sequencePath(360)} {
				vs, err := store.Versions(ctx, path)
				if err != nil || len(vs) != 2 || !vs[1].DeleteMarker {
					t.Errorf("%s has versions %+v (%v), want the claim and the marker alone", path, vs, err)
				}
			}
			if _, err := seq.Integrate(ctx, inserts(360, 400, 50)); err != nil { // the crashed batch, delivered again
				t.Fatal(err)
			}
			l = mustVerify(t, store, verifier)
			for _, p := range l.Problems {
				if p.What != "checkpoint hidden" {
					t.Errorf("problem %v: want only the hidden checkpoint named", p)
				}
			}
			if l.Size != 410 || l.Latest.Size != 410 {
				t.Errorf("log of %d entries, latest checkpoint %d, want 410", l.Size, l.Latest.Size)
			}
			if problems, _ := CompareTable(l, tableItems(t, inserts(0, 410, 50))); len(problems) != 0 {
				t.Errorf("got %v, want none", problems)
			}
		})
	}
}

// countingS3 counts the requests made to S3.
type countingS3 struct {
	S3API
	gets, puts, lists atomic.Int64
}

func (c *countingS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	c.lists.Add(1)
	return c.S3API.ListObjectsV2(ctx, in, opts...)
}

func (c *countingS3) ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, opts ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	c.lists.Add(1)
	return c.S3API.ListObjectVersions(ctx, in, opts...)
}

func (c *countingS3) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.gets.Add(1)
	return c.S3API.GetObject(ctx, in, opts...)
}

func (c *countingS3) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.puts.Add(1)
	return c.S3API.PutObject(ctx, in, opts...)
}
