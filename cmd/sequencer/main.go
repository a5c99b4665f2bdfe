// Command sequencer is the journal's AWS Lambda function: it receives the
// append-only table's DynamoDB stream and puts every record into the
// journal (package journal) in the S3 bucket, exactly once, signing each
// checkpoint with the KMS key. The appendonly construct builds it from this
// module's source at synth and deploys it on the provided.al2023 runtime.
//
// Environment: JOURNAL_BUCKET (the bucket), JOURNAL_KEY (the KMS key's id
// or ARN), JOURNAL_ORIGIN (the table's ARN, the log's origin).
//
// A MODIFY or REMOVE record, which only a lifted deny allows, is journaled
// with its old image and counted in the CloudWatch metric
// appendonly/JournaledMutations (an embedded-metric-format log line, no API
// call), on which the construct's alarm fires.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/journal"
)

func main() {
	h, err := newHandler(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "sequencer:", err)
		os.Exit(1)
	}
	lambda.Start(h.handle)
}

type handler struct {
	seq     *journal.Sequencer
	metrics io.Writer
}

func newHandler(ctx context.Context) (*handler, error) {
	bucket, key, origin := os.Getenv("JOURNAL_BUCKET"), os.Getenv("JOURNAL_KEY"), os.Getenv("JOURNAL_ORIGIN")
	if bucket == "" || key == "" || origin == "" {
		return nil, fmt.Errorf("JOURNAL_BUCKET, JOURNAL_KEY and JOURNAL_ORIGIN must be set")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	k := kms.NewFromConfig(cfg)
	pub, err := k.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("reading the signing key's public key: %w", err)
	}
	signer, err := journal.NewEd25519Signer(origin, pub.PublicKey, func(msg []byte) ([]byte, error) {
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
	vkey, err := journal.VerifierKey(origin, pub.PublicKey)
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	store := &journal.S3Store{Client: s3.NewFromConfig(cfg), Bucket: bucket}
	return &handler{seq: &journal.Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: origin}, metrics: os.Stdout}, nil
}

// handle journals one batch. An error makes Lambda deliver the batch again,
// which is always safe.
func (h *handler) handle(ctx context.Context, ev events.DynamoDBEvent) error {
	records, err := journal.FromLambda(ev)
	if err != nil {
		return err
	}
	res, err := h.seq.Integrate(ctx, records)
	if err != nil {
		return err
	}
	// Counted once per record journaled, not per delivery.
	if res.Mutations > 0 {
		h.metric(res.Mutations)
	}
	fmt.Fprintf(os.Stderr, "journaled %d records (%d already journaled); log size %d\n", res.Appended, res.Duplicates, res.Size)
	return nil
}

// metric writes the count of MODIFY and REMOVE records as an embedded
// metric format line, which CloudWatch turns into the metric
// appendonly/JournaledMutations.
func (h *handler) metric(n int) {
	line, _ := json.Marshal(map[string]any{
		"_aws": map[string]any{
			"Timestamp": time.Now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  "appendonly",
				"Dimensions": [][]string{{"Origin"}},
				"Metrics":    []any{map[string]any{"Name": "JournaledMutations", "Unit": "Count"}},
			}},
		},
		"Origin":             h.seq.Origin,
		"JournaledMutations": n,
	})
	fmt.Fprintln(h.metrics, string(line))
}
