package fakedynamo

import (
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Start serves s on a loopback address for the life of the test, and
// returns a real SDK client for it.
func (s *Server) Start(t testing.TB) (*dynamodb.Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return NewClient(srv.URL), srv
}

// NewClient returns an SDK client that sends every request to url, with
// static test credentials and the SDK's standard retries.
func NewClient(url string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAFAKEDYNAMO", "fake", ""),
	})
}
