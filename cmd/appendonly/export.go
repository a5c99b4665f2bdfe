package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/appendonly/appendonly/ddbexport"
)

// openExport opens a DynamoDB export: a directory, or
// s3://BUCKET/PREFIX/AWSDynamoDB/ID read in place.
func openExport(ctx context.Context, where string, d *deps, loadCfg func() (aws.Config, error)) (*ddbexport.Export, error) {
	rest, ok := strings.CutPrefix(where, "s3://")
	if !ok {
		if st, err := os.Stat(where); err != nil || !st.IsDir() {
			return nil, errors.New("not a directory, nor s3://BUCKET/PREFIX")
		}
		return ddbexport.Open(os.DirFS(where))
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return nil, errors.New("want s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT_ID")
	}
	client := d.s3
	if client == nil {
		c, err := loadCfg()
		if err != nil {
			return nil, err
		}
		client = s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil })
	}
	return ddbexport.Open(&s3FS{ctx: ctx, client: client, bucket: bucket, prefix: strings.Trim(prefix, "/")})
}

// s3FS reads an export's objects in place, as files.
type s3FS struct {
	ctx            context.Context
	client         *s3.Client
	bucket, prefix string
}

func (f *s3FS) key(name string) string {
	if f.prefix == "" {
		return name
	}
	return f.prefix + "/" + name
}

func (f *s3FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	out, err := f.client.GetObject(f.ctx, &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(f.key(name))})
	if err != nil {
		var nk *s3types.NoSuchKey
		if errors.As(err, &nk) {
			err = fs.ErrNotExist
		}
		return nil, &fs.PathError{Op: "open", Path: "s3://" + f.bucket + "/" + f.key(name), Err: err}
	}
	return &s3File{ReadCloser: out.Body, name: name, size: aws.ToInt64(out.ContentLength)}, nil
}

func (f *s3FS) Stat(name string) (fs.FileInfo, error) {
	out, err := f.client.HeadObject(f.ctx, &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(f.key(name))})
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: "s3://" + f.bucket + "/" + f.key(name), Err: err}
	}
	return s3Info{name: name, size: aws.ToInt64(out.ContentLength)}, nil
}

type s3File struct {
	io.ReadCloser
	name string
	size int64
}

func (f *s3File) Stat() (fs.FileInfo, error) { return s3Info{name: f.name, size: f.size}, nil }

type s3Info struct {
	name string
	size int64
}

func (i s3Info) Name() string       { return path.Base(i.name) }
func (i s3Info) Size() int64        { return i.size }
func (i s3Info) Mode() fs.FileMode  { return 0o444 }
func (i s3Info) ModTime() time.Time { return time.Time{} }
func (i s3Info) IsDir() bool        { return false }
func (i s3Info) Sys() any           { return nil }
