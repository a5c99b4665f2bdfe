package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The attributes Chain.Append adds to each item.
const (
	// AttrPrevHash holds the previous item's hash (GenesisHash for the
	// first item).
	AttrPrevHash = "prev_hash"
	// AttrHash holds the item's own hash: hex SHA-256 of the canonical
	// encoding of the item without AttrHash.
	AttrHash = "hash"
	// AttrEncoding names the canonical encoding the hash was computed over.
	AttrEncoding = "hash_encoding"
)

// GenesisHash is the previous hash of a chain's first item.
var GenesisHash = strings.Repeat("0", 64)

// Defaults of Chain.
const (
	DefaultChainKey    = "chain"
	DefaultSequenceKey = "seq"
	DefaultMaxAttempts = 10
)

// ErrContention is what Chain.Append fails with when it lost the race for
// the next sequence number MaxAttempts times.
var ErrContention = errors.New("ledger: gave up appending to the chain: other writers took every sequence number tried")

// Chain appends to and verifies hash chains in one append-only table whose
// partition key (ChainKey, a string) names the chain and whose sort key
// (SequenceKey, a number) is the item's position in it, from 1.
type Chain struct {
	DB    API
	Table string
	// ChainKey is the partition key's name. Default: "chain".
	ChainKey string
	// SequenceKey is the sort key's name. Default: "seq".
	SequenceKey string
	// MaxAttempts bounds the retries of an append that loses a race.
	// Default: 10.
	MaxAttempts int
	// PageSize is how many items Verify asks for per query. Default: DynamoDB's
	// own limit of 1 MB per page.
	PageSize int32
}

func (c *Chain) chainKey() string {
	if c.ChainKey == "" {
		return DefaultChainKey
	}
	return c.ChainKey
}

func (c *Chain) seqKey() string {
	if c.SequenceKey == "" {
		return DefaultSequenceKey
	}
	return c.SequenceKey
}

// Link is an item's place in a chain.
type Link struct {
	Chain string
	Seq   int64
	Hash  string
}

// Digest is a chain's tip, to keep where the chain's writers cannot change
// it. Its string form is "v1.<chain, base64url>.<seq>.<hash>".
type Digest Link

func (d Digest) String() string {
	return "v1." + base64.RawURLEncoding.EncodeToString([]byte(d.Chain)) + "." + strconv.FormatInt(d.Seq, 10) + "." + d.Hash
}

// ParseDigest parses a Digest's string form.
func ParseDigest(s string) (Digest, error) {
	f := strings.Split(strings.TrimSpace(s), ".")
	if len(f) != 4 || f[0] != "v1" {
		return Digest{}, fmt.Errorf("ledger: digest %q: want v1.<chain>.<seq>.<hash>", s)
	}
	chain, err := base64.RawURLEncoding.DecodeString(f[1])
	if err != nil {
		return Digest{}, fmt.Errorf("ledger: digest %q: chain: %v", s, err)
	}
	seq, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || seq < 0 {
		return Digest{}, fmt.Errorf("ledger: digest %q: bad sequence number", s)
	}
	if _, err := hex.DecodeString(f[3]); err != nil || len(f[3]) != 64 {
		return Digest{}, fmt.Errorf("ledger: digest %q: bad hash", s)
	}
	return Digest{Chain: string(chain), Seq: seq, Hash: f[3]}, nil
}

// Hash returns the hash Chain.Append writes for item: hex SHA-256 of its
// canonical encoding without AttrHash.
func Hash(item map[string]types.AttributeValue) (string, error) {
	without := make(map[string]types.AttributeValue, len(item))
	for k, v := range item {
		if k != AttrHash {
			without[k] = v
		}
	}
	enc, err := Encode(without)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(enc)
	return hex.EncodeToString(sum[:]), nil
}

// Tip returns the chain's last link; a chain with no item yet has Seq 0 and
// GenesisHash.
func (c *Chain) Tip(ctx context.Context, chain string) (Link, error) {
	in := c.query(chain, false)
	in.Limit = aws.Int32(1)
	out, err := c.DB.Query(ctx, in)
	if err != nil {
		return Link{}, fmt.Errorf("ledger: reading the tip of chain %q: %w", chain, err)
	}
	if len(out.Items) == 0 {
		return Link{Chain: chain, Seq: 0, Hash: GenesisHash}, nil
	}
	seq, err := c.seqOf(out.Items[0])
	if err != nil {
		return Link{}, err
	}
	h, _ := out.Items[0][AttrHash].(*types.AttributeValueMemberS)
	if h == nil {
		return Link{}, fmt.Errorf("ledger: chain %q item %d has no %s", chain, seq, AttrHash)
	}
	return Link{Chain: chain, Seq: seq, Hash: h.Value}, nil
}

// query is a consistent Query of one chain's items, in sequence order or
// its reverse.
func (c *Chain) query(chain string, forward bool) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 aws.String(c.Table),
		KeyConditionExpression:    aws.String("#c = :c"),
		ExpressionAttributeNames:  map[string]string{"#c": c.chainKey()},
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: chain}},
		ScanIndexForward:          aws.Bool(forward),
		ConsistentRead:            aws.Bool(true),
	}
}

func (c *Chain) seqOf(item map[string]types.AttributeValue) (int64, error) {
	n, ok := item[c.seqKey()].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("ledger: an item has no numeric %s", c.seqKey())
	}
	seq, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("ledger: %s %q is not a whole number", c.seqKey(), n.Value)
	}
	return seq, nil
}

// Append appends item to the chain: the next sequence number, the previous
// hash and its own. item must not hold the chain's key attributes nor the
// chain attributes; it is not changed. A writer that loses the race for a
// sequence number reads the tip again and retries, at most MaxAttempts times
// with jittered waits, then fails with ErrContention.
func (c *Chain) Append(ctx context.Context, chain string, item map[string]types.AttributeValue) (Link, error) {
	for _, k := range []string{c.chainKey(), c.seqKey(), AttrPrevHash, AttrHash, AttrEncoding} {
		if _, ok := item[k]; ok {
			return Link{}, fmt.Errorf("ledger: append to chain %q: the item must not set %s, which the chain writes", chain, k)
		}
	}
	attempts := c.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	wait := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		tip, err := c.Tip(ctx, chain)
		if err != nil {
			return Link{}, err
		}
		next := make(map[string]types.AttributeValue, len(item)+5)
		for k, v := range item {
			next[k] = v
		}
		next[c.chainKey()] = &types.AttributeValueMemberS{Value: chain}
		next[c.seqKey()] = &types.AttributeValueMemberN{Value: strconv.FormatInt(tip.Seq+1, 10)}
		next[AttrPrevHash] = &types.AttributeValueMemberS{Value: tip.Hash}
		next[AttrEncoding] = &types.AttributeValueMemberS{Value: CanonicalVersion}
		h, err := Hash(next)
		if err != nil {
			return Link{}, fmt.Errorf("ledger: append to chain %q: %w", chain, err)
		}
		next[AttrHash] = &types.AttributeValueMemberS{Value: h}
		err = Append(ctx, c.DB, c.Table, next)
		if err == nil {
			return Link{Chain: chain, Seq: tip.Seq + 1, Hash: h}, nil
		}
		if !errors.Is(err, ErrDuplicateItem) {
			return Link{}, err
		}
		if attempt == attempts {
			return Link{}, fmt.Errorf("%w (chain %q, %d attempts)", ErrContention, chain, attempts)
		}
		select {
		case <-ctx.Done():
			return Link{}, ctx.Err()
		case <-time.After(wait/2 + rand.N(wait)):
		}
		wait = min(2*wait, time.Second)
	}
}

// BreakError is a break in a chain: the first place where it is not what
// it was.
type BreakError struct {
	Chain  string
	Seq    int64
	Reason string
}

func (e *BreakError) Error() string {
	return fmt.Sprintf("ledger: chain %q breaks at item %d: %s", e.Chain, e.Seq, e.Reason)
}

// Verify reads the chain from its first item, in order, with consistent
// reads and constant memory, and checks each item: its sequence number
// follows the previous one's, its recorded previous hash is the previous
// item's hash, and its hash recomputes. With a digest it also checks that
// the item at the digest's sequence number still has the digest's hash, and
// that the chain reaches that far. It returns the chain's tip, or a
// *BreakError at the first break.
func (c *Chain) Verify(ctx context.Context, chain string, digest *Digest) (Link, error) {
	prev := Link{Chain: chain, Seq: 0, Hash: GenesisHash}
	brk := func(seq int64, format string, args ...any) (Link, error) {
		return prev, &BreakError{Chain: chain, Seq: seq, Reason: fmt.Sprintf(format, args...)}
	}
	if digest != nil && digest.Chain != chain {
		return Link{}, fmt.Errorf("ledger: the digest is of chain %q, not %q", digest.Chain, chain)
	}
	in := c.query(chain, true)
	if c.PageSize > 0 {
		in.Limit = aws.Int32(c.PageSize)
	}
	p := dynamodb.NewQueryPaginator(c.DB, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return prev, fmt.Errorf("ledger: reading chain %q: %w", chain, err)
		}
		for _, item := range page.Items {
			seq, err := c.seqOf(item)
			if err != nil {
				return brk(prev.Seq+1, "%v", err)
			}
			if seq != prev.Seq+1 {
				return brk(prev.Seq+1, "item %d is missing: the next item is %d", prev.Seq+1, seq)
			}
			stored, _ := item[AttrHash].(*types.AttributeValueMemberS)
			prevHash, _ := item[AttrPrevHash].(*types.AttributeValueMemberS)
			enc, _ := item[AttrEncoding].(*types.AttributeValueMemberS)
			switch {
			case stored == nil || prevHash == nil:
				return brk(seq, "it has no %s or %s", AttrHash, AttrPrevHash)
			case enc == nil || enc.Value != CanonicalVersion:
				return brk(seq, "its %s is not %s", AttrEncoding, CanonicalVersion)
			case prevHash.Value != prev.Hash:
				return brk(seq, "it does not follow item %d: its %s is %.12s..., item %d's hash is %.12s... (an item inserted, removed or reordered)",
					prev.Seq, AttrPrevHash, prevHash.Value, prev.Seq, prev.Hash)
			}
			h, err := Hash(item)
			if err != nil {
				return brk(seq, "%v", err)
			}
			if h != stored.Value {
				return brk(seq, "its content changed: it hashes to %.12s..., its %s says %.12s...", h, AttrHash, stored.Value)
			}
			if digest != nil && seq == digest.Seq && h != digest.Hash {
				return brk(seq, "it is not the item the digest saw: its hash is %.12s..., the digest's %.12s... (the chain was rewritten from here or earlier)", h, digest.Hash)
			}
			prev = Link{Chain: chain, Seq: seq, Hash: h}
		}
	}
	if digest != nil && prev.Seq < digest.Seq {
		return brk(prev.Seq+1, "the chain ends at item %d, below the digest's %d: items were removed from its end", prev.Seq, digest.Seq)
	}
	return prev, nil
}

// VerifyAll verifies every chain in the table: a parallel scan in segments
// finds the chains, then each is verified as Verify does (digests are given
// by chain, and may be nil). It returns every chain's tip, and the breaks it
// found, joined.
func (c *Chain) VerifyAll(ctx context.Context, segments int, digests map[string]Digest) (map[string]Link, error) {
	if segments < 1 {
		segments = 1
	}
	var mu sync.Mutex
	chains := map[string]bool{}
	errs := make([]error, segments)
	var wg sync.WaitGroup
	for s := 0; s < segments; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			p := dynamodb.NewScanPaginator(c.DB, &dynamodb.ScanInput{
				TableName:                aws.String(c.Table),
				Segment:                  aws.Int32(int32(s)),
				TotalSegments:            aws.Int32(int32(segments)),
				ProjectionExpression:     aws.String("#c"),
				ExpressionAttributeNames: map[string]string{"#c": c.chainKey()},
				ConsistentRead:           aws.Bool(true),
			})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					errs[s] = fmt.Errorf("ledger: scanning %s, segment %d: %w", c.Table, s, err)
					return
				}
				mu.Lock()
				for _, item := range page.Items {
					if v, ok := item[c.chainKey()].(*types.AttributeValueMemberS); ok {
						chains[v.Value] = true
					}
				}
				mu.Unlock()
			}
		}(s)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	tips := map[string]Link{}
	var breaks []error
	for chain := range chains {
		var d *Digest
		if dg, ok := digests[chain]; ok {
			d = &dg
		}
		tip, err := c.Verify(ctx, chain, d)
		tips[chain] = tip
		if err != nil {
			breaks = append(breaks, err)
		}
	}
	for chain, d := range digests {
		if !chains[chain] && d.Seq > 0 {
			breaks = append(breaks, &BreakError{Chain: chain, Seq: 1, Reason: fmt.Sprintf("the chain is gone; the digest saw %d items", d.Seq)})
		}
	}
	return tips, errors.Join(breaks...)
}
