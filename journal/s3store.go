package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3API is the part of the S3 client S3Store calls; *s3.Client implements
// it.
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, opts ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
}

// S3Store is a Store in an S3 bucket with Object Lock: every object gets
// the bucket's default retention. Create sends If-None-Match: *, so S3
// itself refuses to replace an object, and every write names a SHA-256
// checksum, which S3 requires of writes into a bucket with a default
// retention.
type S3Store struct {
	Client S3API
	Bucket string
}

func (s *S3Store) get(ctx context.Context, path, version string) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(path)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	out, err := s.Client.GetObject(ctx, in)
	if err != nil {
		var nsk *s3types.NoSuchKey
		var api smithy.APIError
		if errors.As(err, &nsk) || (errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NoSuchVersion" || api.ErrorCode() == "NotFound" || api.ErrorCode() == "MethodNotAllowed")) {
			return nil, fmt.Errorf("s3://%s/%s: %w", s.Bucket, path, ErrNotExist)
		}
		return nil, fmt.Errorf("journal: reading s3://%s/%s: %w", s.Bucket, path, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// Get implements Store.
func (s *S3Store) Get(ctx context.Context, path string) ([]byte, error) { return s.get(ctx, path, "") }

// GetVersion implements Store.
func (s *S3Store) GetVersion(ctx context.Context, path, id string) ([]byte, error) {
	return s.get(ctx, path, id)
}

func (s *S3Store) put(ctx context.Context, path string, data []byte, create bool) error {
	in := &s3.PutObjectInput{
		Bucket:            aws.String(s.Bucket),
		Key:               aws.String(path),
		Body:              bytes.NewReader(data),
		ContentLength:     aws.Int64(int64(len(data))),
		ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256,
	}
	if create {
		in.IfNoneMatch = aws.String("*")
	}
	_, err := s.Client.PutObject(ctx, in)
	var api smithy.APIError
	if create && errors.As(err, &api) && api.ErrorCode() == "PreconditionFailed" {
		return fmt.Errorf("s3://%s/%s: %w", s.Bucket, path, ErrExist)
	}
	if err != nil {
		return fmt.Errorf("journal: writing s3://%s/%s: %w", s.Bucket, path, err)
	}
	return nil
}

// Create implements Store.
func (s *S3Store) Create(ctx context.Context, path string, data []byte) error {
	return s.put(ctx, path, data, true)
}

// AddVersion implements Store.
func (s *S3Store) AddVersion(ctx context.Context, path string, data []byte) error {
	return s.put(ctx, path, data, false)
}

// Versions implements Store.
func (s *S3Store) Versions(ctx context.Context, path string) ([]Version, error) {
	return s.versions(ctx, path, 0)
}

// Recent implements Store: one ListObjectVersions request of n keys. The
// path's own versions come first: S3 lists keys in order, and every other
// key with the path as its prefix sorts after it.
func (s *S3Store) Recent(ctx context.Context, path string, n int) ([]Version, error) {
	vs, err := s.versions(ctx, path, n)
	return newest(vs, n), err
}

// versions lists the object's versions, oldest first: all of them, or
// those among the first limit that S3 lists.
func (s *S3Store) versions(ctx context.Context, path string, limit int) ([]Version, error) {
	var out []Version
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(s.Bucket), Prefix: aws.String(path)}
	if limit > 0 {
		in.MaxKeys = aws.Int32(int32(limit))
	}
	p := s3.NewListObjectVersionsPaginator(s.Client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("journal: listing the versions of s3://%s/%s: %w", s.Bucket, path, err)
		}
		// S3 lists a key's versions newest first; the current one, the
		// newest, is marked IsLatest, whether it is a delete marker or not.
		var vs, markers []Version
		for _, v := range page.Versions {
			if aws.ToString(v.Key) == path {
				vs = append(vs, Version{ID: aws.ToString(v.VersionId), Modified: aws.ToTime(v.LastModified), latest: aws.ToBool(v.IsLatest)})
			}
		}
		for _, v := range page.DeleteMarkers {
			if aws.ToString(v.Key) == path {
				markers = append(markers, Version{ID: aws.ToString(v.VersionId), Modified: aws.ToTime(v.LastModified), DeleteMarker: true, latest: aws.ToBool(v.IsLatest)})
			}
		}
		out = append(out, mergeNewestFirst(vs, markers)...)
		if limit > 0 {
			break
		}
	}
	// Reversed, they are oldest first.
	slices.Reverse(out)
	for i := range out {
		out[i].latest = false
	}
	return out, nil
}

// mergeNewestFirst merges two lists of versions, each newest first, by
// time; the current version (IsLatest) comes first, and times that tie to
// the second keep object versions before delete markers.
func mergeNewestFirst(vs, markers []Version) []Version {
	out := make([]Version, 0, len(vs)+len(markers))
	for len(vs) > 0 || len(markers) > 0 {
		takeMarker := len(vs) == 0 || (len(markers) > 0 && (markers[0].latest || (!vs[0].latest && markers[0].Modified.After(vs[0].Modified))))
		if takeMarker {
			out, markers = append(out, markers[0]), markers[1:]
		} else {
			out, vs = append(out, vs[0]), vs[1:]
		}
	}
	return out
}

// List implements Store.
func (s *S3Store) List(ctx context.Context, prefix, after string) ([]string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix)}
	if after != "" {
		in.StartAfter = aws.String(after)
	}
	var out []string
	p := s3.NewListObjectsV2Paginator(s.Client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("journal: listing s3://%s/%s: %w", s.Bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out, nil
}
