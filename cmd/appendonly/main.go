// Command appendonly appends to and verifies hash chains in an append-only
// DynamoDB table, with the AWS SDK's standard configuration: profiles,
// AWS_REGION, and AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL.
//
//	appendonly append --table T --chain C [--item JSON]   (or the item as JSON on standard input)
//	appendonly digest --table T --chain C
//	appendonly verify --table T [--chain C] [--digest D]
//
// Exit status: 0 when done (verify: intact), 1 when verify finds a break, 2
// on a usage or access error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/appendonly/appendonly/ledger"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, nil))
}

const usage = `usage:
  appendonly append --table T --chain C [--item JSON]   append an item (JSON object) to chain C;
                                                        without --item, read it from standard input;
                                                        prints the new sequence number and hash
  appendonly digest --table T --chain C                 print chain C's digest, to keep elsewhere
  appendonly verify --table T [--chain C] [--digest D]  verify chain C (against digest D),
                                                        or every chain in T
Common flags: --chain-key (default chain) and --seq-key (default seq) name the table's
partition and sort keys. AWS credentials, Region and endpoint come from the SDK's standard
configuration (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, ...).
Exit status: 0 done or intact, 1 verify found a break, 2 usage or access error.`

// run is the command; db, when not nil, replaces the client the SDK's
// configuration would make.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, db ledger.API) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "appendonly:", err)
		return 2
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd := args[0]
	fs := flag.NewFlagSet("appendonly "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	table := fs.String("table", "", "the append-only table")
	chain := fs.String("chain", "", "the chain")
	item := fs.String("item", "", "append: the item, a JSON object (default: standard input)")
	digest := fs.String("digest", "", "verify: a digest printed by `appendonly digest`")
	chainKey := fs.String("chain-key", ledger.DefaultChainKey, "the partition key's name")
	seqKey := fs.String("seq-key", ledger.DefaultSequenceKey, "the sort key's name")
	segments := fs.Int("segments", 4, "verify without --chain: parallel scan segments")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("%s: unexpected argument %q", cmd, fs.Arg(0)))
	}
	if *table == "" {
		return fail(fmt.Errorf("%s: --table is required", cmd))
	}
	if (cmd == "append" || cmd == "digest") && *chain == "" {
		return fail(fmt.Errorf("%s: --chain is required", cmd))
	}
	if db == nil {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return fail(err)
		}
		db = dynamodb.NewFromConfig(cfg)
	}
	c := &ledger.Chain{DB: db, Table: *table, ChainKey: *chainKey, SequenceKey: *seqKey}
	switch cmd {
	case "append":
		data := []byte(*item)
		if *item == "" {
			var err error
			if data, err = io.ReadAll(stdin); err != nil {
				return fail(err)
			}
		}
		av, err := itemFromJSON(data)
		if err != nil {
			return fail(fmt.Errorf("append: %v", err))
		}
		l, err := c.Append(ctx, *chain, av)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%d %s\n", l.Seq, l.Hash)
	case "digest":
		l, err := c.Tip(ctx, *chain)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, ledger.Digest(l))
	case "verify":
		var d *ledger.Digest
		if *digest != "" {
			parsed, err := ledger.ParseDigest(*digest)
			if err != nil {
				return fail(err)
			}
			d = &parsed
			if *chain == "" {
				*chain = parsed.Chain
			}
		}
		var brk *ledger.BreakError
		if *chain != "" {
			tip, err := c.Verify(ctx, *chain, d)
			if errors.As(err, &brk) {
				fmt.Fprintln(stdout, err)
				return 1
			}
			if err != nil {
				return fail(err)
			}
			fmt.Fprintf(stdout, "chain %q intact: %d items, tip %s\n", *chain, tip.Seq, tip.Hash)
			return 0
		}
		tips, err := c.VerifyAll(ctx, *segments, nil)
		if err != nil && !errors.As(err, &brk) {
			return fail(err)
		}
		names := make([]string, 0, len(tips))
		for name := range tips {
			names = append(names, name)
		}
		sort.Strings(names)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				fmt.Fprintln(stdout, line)
			}
			return 1
		}
		for _, name := range names {
			fmt.Fprintf(stdout, "chain %q intact: %d items, tip %s\n", name, tips[name].Seq, tips[name].Hash)
		}
	default:
		return fail(fmt.Errorf("unknown command %q: append, digest or verify (appendonly --help)", cmd))
	}
	return 0
}

// itemFromJSON converts a JSON object to an item: objects to M, arrays to L,
// strings to S, numbers to N as written, booleans to BOOL, null to NULL.
func itemFromJSON(data []byte) (map[string]types.AttributeValue, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the item is not JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("the item is followed by more JSON")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the item is not a JSON object")
	}
	return toAttributeValue(m).(*types.AttributeValueMemberM).Value, nil
}

func toAttributeValue(v any) types.AttributeValue {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]types.AttributeValue, len(v))
		for k, x := range v {
			m[k] = toAttributeValue(x)
		}
		return &types.AttributeValueMemberM{Value: m}
	case []any:
		l := make([]types.AttributeValue, len(v))
		for i, x := range v {
			l[i] = toAttributeValue(x)
		}
		return &types.AttributeValueMemberL{Value: l}
	case string:
		return &types.AttributeValueMemberS{Value: v}
	case json.Number:
		return &types.AttributeValueMemberN{Value: v.String()}
	case bool:
		return &types.AttributeValueMemberBOOL{Value: v}
	}
	return &types.AttributeValueMemberNULL{Value: true}
}
