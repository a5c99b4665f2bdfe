// Package versity starts Versity Gateway for tests: an S3 server nobody
// here wrote that enforces Object Lock (bin/versitygw, built by make deps
// from the module pinned in internal/tools/versitygw).
package versity

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Start starts Versity Gateway (bin/versitygw, built by `make deps`), an
// S3 server nobody here wrote that enforces Object Lock, over a temporary
// directory, and returns a client for it with a bucket under Object Lock
// in mode (GOVERNANCE or COMPLIANCE).
func Start(t testing.TB, mode s3types.ObjectLockRetentionMode) (*s3.Client, string) {
	t.Helper()
	root := repoRoot(t)
	bin := filepath.Join(root, "bin", "versitygw")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s not found: run `make deps`, which builds Versity Gateway from internal/tools/versitygw", bin)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	data, versions := t.TempDir(), t.TempDir()
	cmd := exec.Command(bin, "--port", addr, "posix", "--versioning-dir", versions, data)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID=versitytest", "ROOT_SECRET_ACCESS_KEY=versitytestsecret")
	out, _ := os.Create(filepath.Join(t.TempDir(), "versitygw.log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + addr),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("versitytest", "versitytestsecret", ""),
	})
	ctx := context.Background()
	bucket := "journal"
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket), ObjectLockEnabledForBucket: aws.Bool(true)})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, err = client.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
		Bucket: aws.String(bucket),
		ObjectLockConfiguration: &s3types.ObjectLockConfiguration{
			ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
			Rule:              &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{Mode: s3types.ObjectLockRetentionMode(mode), Days: aws.Int32(1)}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return client, bucket
}

func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no repository root above the working directory")
		}
		dir = parent
	}
}
