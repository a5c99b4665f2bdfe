// Command sequencer is the journal's AWS Lambda function: it receives the
// append-only table's DynamoDB stream and puts every record into the
// journal (package journal) in the S3 bucket, exactly once, signing each
// claim and checkpoint with the KMS key. The appendonly construct builds it
// from this module's source at synth and deploys it on the provided.al2023
// runtime.
//
// Environment: JOURNAL_BUCKET (the bucket), JOURNAL_KEY (the KMS key's id
// or ARN), JOURNAL_ORIGIN (the table's ARN, the log's origin),
// JOURNAL_STREAM (the table's stream ARN: records from any other source are
// refused). With APPENDONLY_FUNCTION=stream-lookup it is instead the custom
// resource that tells a journal in another account the table's stream ARN
// (lookup.go); with APPENDONLY_FUNCTION=monitor, the journal's monitor
// (monitor.go); with APPENDONLY_FUNCTION=empty-journal, the custom resource
// that empties the journal's bucket when its stack is deleted, for a
// journal made with JournalProps.UnsafeRemoveWithStack (empty.go).
//
// It writes three CloudWatch metrics in the namespace appendonly, each an
// embedded-metric-format log line (no API call), on which the construct's
// alarms fire:
//   - JournaledMutations: MODIFY and REMOVE records, which only a lifted deny
//     allows, and INSERTs of a key the journal holds already;
//   - JournalTampering: what it found done to the journal's objects (a
//     delete marker, a version or claim nobody signed) and records from
//     another source;
//   - JournalFeedHealthy: 1 or 0, from the feed check (package feed) that a
//     schedule asks it for; its absence raises the alarm too.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/internal/feed"
	"github.com/appendonly/appendonly/journal"
)

func main() {
	if os.Getenv("APPENDONLY_FUNCTION") == "stream-lookup" {
		// The same binary serves a journal in another account as the
		// custom resource that learns the table's stream (lookup.go).
		cfg, err := config.LoadDefaultConfig(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, "stream lookup:", err)
			os.Exit(1)
		}
		db := dynamodb.NewFromConfig(cfg)
		lambda.Start(cfn.LambdaWrap(func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
			return lookupStream(ctx, db, ev)
		}))
		return
	}
	if os.Getenv("APPENDONLY_FUNCTION") == "empty-journal" {
		// With JournalProps.UnsafeRemoveWithStack, the custom resource that
		// empties the journal's bucket when the stack is deleted (empty.go).
		cfg, err := config.LoadDefaultConfig(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, "journal removal:", err)
			os.Exit(1)
		}
		client := s3.NewFromConfig(cfg)
		lambda.Start(cfn.LambdaWrap(func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
			return emptyJournal(ctx, client, ev)
		}))
		return
	}
	if os.Getenv("APPENDONLY_FUNCTION") == "monitor" {
		m, err := newMonitor(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, "monitor:", err)
			os.Exit(1)
		}
		lambda.Start(func(ctx context.Context, _ json.RawMessage) error { return m.run(ctx) })
		return
	}
	h, err := newHandler(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "sequencer:", err)
		os.Exit(1)
	}
	lambda.Start(h.handle)
}

type handler struct {
	seq *journal.Sequencer
	// stream is the table's stream ARN: the only source the sequencer
	// journals.
	stream string
	feed   interface {
		Check(context.Context) []string
	}
	metrics io.Writer
	logs    io.Writer
}

func newHandler(ctx context.Context) (*handler, error) {
	bucket, key, origin, stream := os.Getenv("JOURNAL_BUCKET"), os.Getenv("JOURNAL_KEY"), os.Getenv("JOURNAL_ORIGIN"), os.Getenv("JOURNAL_STREAM")
	if bucket == "" || key == "" || origin == "" || stream == "" {
		return nil, fmt.Errorf("JOURNAL_BUCKET, JOURNAL_KEY, JOURNAL_ORIGIN and JOURNAL_STREAM must be set")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	k := kms.NewFromConfig(cfg)
	der, verifier, err := verifierOf(ctx, k, key, origin)
	if err != nil {
		return nil, err
	}
	signer, err := journal.NewEd25519Signer(origin, der, func(msg []byte) ([]byte, error) {
		out, err := k.Sign(ctx, &kms.SignInput{
			KeyId:            aws.String(key),
			Message:          msg,
			MessageType:      kmstypes.MessageTypeRaw,
			SigningAlgorithm: kmstypes.SigningAlgorithmSpecEd25519Sha512,
		})
		if err != nil {
			return nil, err
		}
		return out.Signature, nil
	})
	if err != nil {
		return nil, err
	}
	// More idle connections than the SDK's 10 a host: the sequencer has up
	// to 16 requests under way at once, and each new connection is a TLS
	// handshake.
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) { t.MaxIdleConnsPerHost = 64 })
	})
	store := &journal.S3Store{Client: client, Bucket: bucket}
	return &handler{
		seq:    &journal.Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: origin},
		stream: stream,
		feed: &feed.Checker{Lambda: awslambda.NewFromConfig(cfg), Streams: dynamodbstreams.NewFromConfig(cfg),
			Function: os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), Stream: stream},
		metrics: os.Stdout,
		logs:    os.Stderr,
	}, nil
}

// verifierOf reads the signing key's public key (DER) from KMS and makes
// the journal's verifier, named origin.
func verifierOf(ctx context.Context, k *kms.Client, key, origin string) ([]byte, note.Verifier, error) {
	pub, err := k.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(key)})
	if err != nil {
		return nil, nil, fmt.Errorf("reading the signing key's public key: %w", err)
	}
	vkey, err := journal.VerifierKey(origin, pub.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	v, err := note.NewVerifier(vkey)
	return pub.PublicKey, v, err
}

// newMonitor makes the monitor from its environment: JOURNAL_BUCKET,
// JOURNAL_KEY (for its public key) and JOURNAL_ORIGIN (the table's ARN).
func newMonitor(ctx context.Context) (*monitor, error) {
	bucket, key, origin := os.Getenv("JOURNAL_BUCKET"), os.Getenv("JOURNAL_KEY"), os.Getenv("JOURNAL_ORIGIN")
	if bucket == "" || key == "" || origin == "" {
		return nil, fmt.Errorf("JOURNAL_BUCKET, JOURNAL_KEY and JOURNAL_ORIGIN must be set")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	_, verifier, err := verifierOf(ctx, kms.NewFromConfig(cfg), key, origin)
	if err != nil {
		return nil, err
	}
	return &monitor{store: &journal.S3Store{Client: s3.NewFromConfig(cfg), Bucket: bucket}, verifier: verifier, table: origin,
		db: dynamodb.NewFromConfig(cfg), metrics: os.Stdout, logs: os.Stderr}, nil
}

// invocation is what the function is invoked with: a batch of stream records
// from its event source mapping, or the schedule's event asking for the
// feed check.
type invocation struct {
	Records    []json.RawMessage `json:"Records"`
	DetailType string            `json:"detail-type"`
	Source     string            `json:"source"`
}

// handle journals one batch, or checks the feed. An error makes Lambda
// deliver the batch again, which is always safe.
func (h *handler) handle(ctx context.Context, raw json.RawMessage) error {
	var ev invocation
	if err := json.Unmarshal(raw, &ev); err != nil {
		return fmt.Errorf("the event is not JSON: %w", err)
	}
	switch {
	case ev.Records != nil:
		var de events.DynamoDBEvent
		if err := json.Unmarshal(raw, &de); err != nil {
			return fmt.Errorf("the event is not a DynamoDB stream event: %w", err)
		}
		return h.journal(ctx, de)
	case ev.Source == "aws.events" && ev.DetailType == "Scheduled Event":
		h.checkFeed(ctx)
		return nil
	}
	return errors.New("the event is neither a DynamoDB stream batch nor the feed check's schedule")
}

func (h *handler) journal(ctx context.Context, ev events.DynamoDBEvent) error {
	// Only the table's stream speaks: a second mapping from another
	// stream, or a stale one after the stream was replaced, is refused.
	for _, r := range ev.Records {
		if r.EventSourceArn != h.stream {
			h.metric("JournalTampering", 1)
			return fmt.Errorf("record %s comes from %q, not the table's stream %s: refused", r.EventID, r.EventSourceArn, h.stream)
		}
	}
	records, err := journal.FromLambda(ev)
	if err != nil {
		return err
	}
	res, err := h.seq.Integrate(ctx, records)
	for _, t := range res.Tampering {
		fmt.Fprintln(h.logs, "tampering:", t)
	}
	if n := len(res.Tampering); n > 0 || errors.Is(err, journal.ErrTampering) {
		h.metric("JournalTampering", max(n, 1))
	}
	if err != nil {
		return err
	}
	// Counted once per record journaled, not per delivery.
	if res.Mutations > 0 {
		h.metric("JournaledMutations", res.Mutations)
	}
	fmt.Fprintf(h.logs, "journaled %d records (%d already journaled); log size %d\n", res.Appended, res.Duplicates, res.Size)
	return nil
}

// checkFeed reports JournalFeedHealthy: 1 when nothing stops or thins the
// feed, else 0, each finding logged.
func (h *handler) checkFeed(ctx context.Context) {
	findings := h.feed.Check(ctx)
	for _, f := range findings {
		fmt.Fprintln(h.logs, "feed:", f)
	}
	healthy := 1
	if len(findings) > 0 {
		healthy = 0
	}
	h.metric("JournalFeedHealthy", healthy)
}

// metric writes one value of a metric of the journal.
func (h *handler) metric(name string, n int) { writeMetric(h.metrics, h.seq.Origin, name, n) }

// writeMetric writes one value of a metric in the namespace appendonly,
// with the dimension Origin, as an embedded metric format line, which
// CloudWatch turns into the metric.
func writeMetric(w io.Writer, origin, name string, n int) {
	line, _ := json.Marshal(map[string]any{
		"_aws": map[string]any{
			"Timestamp": time.Now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  "appendonly",
				"Dimensions": [][]string{{"Origin"}},
				"Metrics":    []any{map[string]any{"Name": name, "Unit": "Count"}},
			}},
		},
		"Origin": origin,
		name:     n,
	})
	fmt.Fprintln(w, string(line))
}
