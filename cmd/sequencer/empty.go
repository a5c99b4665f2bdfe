package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// versionDeleter is the part of the S3 client the journal's emptier calls.
type versionDeleter interface {
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, opts ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, opts ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// emptyJournal answers the custom resource Custom::AppendOnlyJournalRemoval,
// which a journal gets only with JournalProps.UnsafeRemoveWithStack (in
// governance mode): when the stack is deleted, after the sequencer and the
// monitor are gone, it deletes every object version and delete marker of
// the journal's bucket, bypassing the governance lock, so that
// CloudFormation can delete the bucket. On create and update it does
// nothing: its physical id is the bucket's name.
func emptyJournal(ctx context.Context, s versionDeleter, ev cfn.Event) (string, map[string]any, error) {
	bucket, _ := ev.ResourceProperties["Bucket"].(string)
	if bucket == "" {
		return "", nil, fmt.Errorf("the custom resource has no Bucket property")
	}
	if ev.RequestType != cfn.RequestDelete {
		return bucket, nil, nil
	}
	n, err := emptyBucket(ctx, s, bucket)
	if err != nil {
		return "", nil, fmt.Errorf("emptying the journal bucket %s (%d versions deleted): %w", bucket, n, err)
	}
	return ev.PhysicalResourceID, nil, nil
}

// emptyBucket deletes every object version and delete marker of bucket,
// 1,000 at a time, and returns how many it deleted.
func emptyBucket(ctx context.Context, s versionDeleter, bucket string) (int, error) {
	deleted := 0
	for {
		// Listed from the start each time: what was deleted is gone.
		out, err := s.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1000)})
		if err != nil {
			return deleted, err
		}
		var ids []types.ObjectIdentifier
		for _, v := range out.Versions {
			ids = append(ids, types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) == 0 {
			return deleted, nil
		}
		res, err := s.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), BypassGovernanceRetention: aws.Bool(true),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return deleted, err
		}
		if len(res.Errors) > 0 {
			e := res.Errors[0]
			return deleted, fmt.Errorf("%d of %d not deleted, the first %s (version %s): %s: %s",
				len(res.Errors), len(ids), aws.ToString(e.Key), aws.ToString(e.VersionId), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		deleted += len(ids)
	}
}
