// Command appendonly appends to an append-only DynamoDB table, and
// verifies and proves its journal, with the AWS SDK's standard
// configuration: profiles, AWS_REGION, and AWS_ENDPOINT_URL_DYNAMODB,
// AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL.
//
//	appendonly append --table T [--item JSON]
//	appendonly verify (--table T | --export E) (--bucket B | --dir D) --verifier-key K [--since FILE] [--checkpoint-out FILE]
//	appendonly prove [--table T] (--bucket B | --dir D) --verifier-key K --key JSON [--checkpoint FILE] [--out FILE]
//	appendonly check-proof --verifier-key K [FILE ...]
//	appendonly verifier-key --table T --kms-key KEY
//	appendonly probe --table T [--bucket B] [--insert] [--json]
//
// Exit status: 0 when done (verify: intact; prove and check-proof: the
// item's first INSERT is proven and it has no later entry; probe: every
// path that must be denied is denied), 1 when verify finds a problem, a
// proof does not hold, the item changed after it was journaled or a probed
// path is open, 2 on a usage or access error.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/check"
	"github.com/appendonly/appendonly/ddbexport"
	"github.com/appendonly/appendonly/internal/probe"
	"github.com/appendonly/appendonly/journal"
	"github.com/appendonly/appendonly/ledger"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, nil))
}

const usage = `usage:
  appendonly append --table T [--item JSON]       append an item (a JSON object; without --item,
                                                  read from standard input) with a PartiQL INSERT
  appendonly verify (--table T | --export E) (--bucket B | --dir D) --verifier-key K [--segments N]
                    [--settle DURATION] [--since FILE] [--checkpoint-out FILE]
                                                  verify the journal (every checkpoint's signature
                                                  and consistency, every entry) and the table against it,
                                                  in bounded memory, read by a consistent Scan or from E, a
                                                  DynamoDB export (a directory, or s3://BUCKET/PREFIX/
                                                  AWSDynamoDB/ID) with no DynamoDB call at all; items in no
                                                  entry yet are looked for again after --settle (default 1m);
                                                  with --since, only what was appended since the checkpoint
                                                  in FILE, its items read by key; --checkpoint-out keeps the
                                                  newest checkpoint once verified
  appendonly prove [--table T] (--bucket B | --dir D) --verifier-key K --key JSON [--checkpoint FILE] [--out FILE]
                                                  (without --table, the key attributes come from the journal)
                                                  write the C2SP tlog-proof of the item with key JSON to FILE
                                                  (default proof.tlog-proof), against the latest checkpoint or
                                                  the one in --checkpoint; a proof of each later entry of the
                                                  item (a MODIFY, a REMOVE, an INSERT again) to FILE's name
                                                  with .<index> before .tlog-proof
  appendonly check-proof --verifier-key K [FILE ...]
                                                  check proofs (FILEs, or one on standard input) with only
                                                  the key, and say whether the item changed after its INSERT
  appendonly verifier-key --table T --kms-key KEY print the journal's verifier key, from the signing
                                                  key's public key (kms:GetPublicKey)
  appendonly check [DIR]                          check a cloud assembly (default cdk.out), as the construct does
                                                  at synth, from what its templates say is protected: every
                                                  write grant to an append-only table and every protection
                                                  changed; one line a finding; no AWS call
  appendonly probe --table T [--bucket B] [--insert] [--json] [--as user|administrator|deployer]
                                                  try, as the caller, every way of changing the table's
                                                  data or protection (and the journal bucket's), each in a
                                                  form that changes nothing even when allowed, and print
                                                  what AWS answers; --insert also INSERTs a fresh item
                                                  (it stays forever); --as says who the caller is, so that
                                                  what the README lets an administrator or the deployer do
                                                  is expected and the exit status can gate CI
K is a verifier key (name+hash+key), or @FILE holding one. JSON keys: strings for S attributes,
numbers for N, {"B": "<base64>"} for B; DynamoDB JSON ({"S": "x"}, {"N": "1"}) works too. AWS credentials, Region and endpoints
come from the SDK's standard configuration (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB,
AWS_ENDPOINT_URL_S3, ...).
Flags: --segments N (verify: parallel scan segments, default 4).
Exit status: 0 done, intact, the proof holds or every path probed is denied; 1 verify found a
problem, a proof does not hold, the item changed or a path is open; 2 usage or access error.`

// checkCommand runs appendonly check [DIR]: exit 0 when nothing is wrong,
// 1 with one line a finding (or when the assembly holds no append-only
// table: nothing was checked), 2 for a usage error.
func checkCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("appendonly check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: appendonly check [DIR]\n  check the cloud assembly in DIR (default cdk.out): exit 0 intact, 1 a finding, 2 a usage error")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "appendonly check: one directory, not %d: %s\n", fs.NArg(), strings.Join(fs.Args(), " "))
		return 2
	}
	dir := "cdk.out"
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	findings, tables, err := check.CheckAssembly(dir)
	if err != nil {
		fmt.Fprintf(stderr, "appendonly check %s: %v (run cdk synth first, or give the cloud assembly's directory)\n", dir, err)
		return 2
	}
	fatal := 0
	for _, f := range findings {
		where := f.LogicalID
		if f.Location != "" {
			where += " " + f.Location
		}
		if f.File != "" {
			where = filepath.Base(f.File) + " " + where
		}
		fmt.Fprintf(stdout, "%s: %s: %s %s\n", f.Severity, strings.TrimSpace(where), strings.TrimPrefix(f.Message, "appendonly: "), f.Fix)
		if f.Severity == check.Fatal {
			fatal++
		}
	}
	switch {
	case fatal > 0:
		fmt.Fprintf(stdout, "%d findings in %s\n", fatal, dir)
		return 1
	case tables == 0:
		fmt.Fprintf(stdout, "%s holds no append-only table (no %s metadata): nothing was checked\n", dir, check.TableKey)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d append-only tables; no write grant to them, their protection as the construct wrote it", dir, tables)
	if len(findings) > 0 {
		fmt.Fprintf(stdout, " (%d warnings above)", len(findings))
	}
	fmt.Fprintln(stdout)
	return 0
}

// DB is the part of the DynamoDB client the command calls.
type DB interface {
	ledger.API
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// deps replace, in tests, the clients the SDK's configuration would make.
type deps struct {
	db    DB
	store journal.Store
	kms   func(ctx context.Context, key string) ([]byte, error) // the public key, DER
	s3    *s3.Client                                            // probe: the journal bucket's client
	// sleep waits for the journal to catch up (verify --settle).
	sleep func(ctx context.Context, d time.Duration) error
	// now is the clock (progress).
	now func() time.Time
}

var commands = map[string]bool{"append": true, "verify": true, "prove": true, "check-proof": true, "verifier-key": true, "probe": true, "check": true}

// commandFlags are the flags each command takes.
var commandFlags = map[string][]string{
	"append":       {"table", "item"},
	"verify":       {"table", "bucket", "dir", "verifier-key", "export", "segments", "settle", "since", "checkpoint-out"},
	"prove":        {"table", "bucket", "dir", "verifier-key", "key", "checkpoint", "out"},
	"check-proof":  {"verifier-key"},
	"verifier-key": {"table", "kms-key"},
	"probe":        {"table", "bucket", "insert", "json", "as"},
}

// commandUsage is the part of the usage that concerns cmd, and what every
// command shares.
func commandUsage(cmd string) string {
	var b strings.Builder
	b.WriteString("usage:\n")
	in := false
	for _, line := range strings.Split(usage, "\n")[1:] {
		switch {
		case strings.HasPrefix(line, "  appendonly "):
			in = strings.HasPrefix(line, "  appendonly "+cmd+" ")
		case !strings.HasPrefix(line, "  "):
			in = true // what every command shares
		}
		if in {
			b.WriteString(line + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// usageError is a mistake in the command line or its values: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, d *deps) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd := args[0]
	if !commands[cmd] {
		fmt.Fprintf(stderr, "appendonly: unknown command %q: append, verify, prove, check-proof, verifier-key, probe or check (appendonly --help)\n", cmd)
		return 2
	}
	if cmd == "check" {
		return checkCommand(args[1:], stdout, stderr)
	}
	if d == nil {
		d = &deps{}
	}
	code, err := command(ctx, cmd, args[1:], stdin, stdout, stderr, d)
	if err != nil {
		fmt.Fprintln(stderr, "appendonly "+cmd+":", err)
		return 2
	}
	return code
}

func command(ctx context.Context, cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer, d *deps) (int, error) {
	fs := flag.NewFlagSet("appendonly "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, commandUsage(cmd)) }
	table := fs.String("table", "", "the append-only table")
	item := fs.String("item", "", "append: the item, a JSON object (default: standard input)")
	bucket := fs.String("bucket", "", "the journal's S3 bucket")
	dir := fs.String("dir", "", "a journal in a directory (appendonly's demo), instead of --bucket")
	vkey := fs.String("verifier-key", "", "the journal's verifier key, or @FILE")
	key := fs.String("key", "", "prove: the item's key attributes, a JSON object")
	checkpoint := fs.String("checkpoint", "", "prove: a file holding the signed checkpoint to prove against")
	out := fs.String("out", "proof.tlog-proof", "prove: the proof file to write")
	kmsKey := fs.String("kms-key", "", "verifier-key: the journal's KMS signing key (id, ARN or alias)")
	segments := fs.Int("segments", 4, "verify: parallel scan segments of the table")
	since := fs.String("since", "", "verify: a file holding a checkpoint verified before: check only what was appended since")
	checkpointOut := fs.String("checkpoint-out", "", "verify: write the newest checkpoint to this file once verified, for the next --since")
	export := fs.String("export", "", "verify: compare with a DynamoDB export of the table (a directory, or s3://BUCKET/PREFIX/AWSDynamoDB/ID) instead of scanning it")
	settle := fs.Duration("settle", time.Minute, "verify: how long to wait for the journal to catch up with items found in the table and in no entry")
	insert := fs.Bool("insert", false, "probe: also INSERT a fresh item, which stays in the table forever")
	asJSON := fs.Bool("json", false, "probe: print the report as JSON")
	as := fs.String("as", "user", "probe: who the caller is, for what to expect: user, administrator or deployer")
	// Flags may come after arguments (check-proof FILE --verifier-key K):
	// parse again after each argument.
	var positional []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0, nil
			}
			return 2, nil
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	var stray []string
	fs.Visit(func(f *flag.Flag) {
		if !slices.Contains(commandFlags[cmd], f.Name) {
			stray = append(stray, "--"+f.Name)
		}
	})
	if len(stray) > 0 {
		return 2, usagef("%s: not a flag of %s, whose flags are --%s (appendonly %s --help)", strings.Join(stray, ", "), cmd, strings.Join(commandFlags[cmd], ", --"), cmd)
	}
	need := func(name, value string) error {
		if value == "" {
			return usagef("--%s is required", name)
		}
		return nil
	}
	if cmd != "check-proof" && len(positional) > 0 {
		return 2, usagef("unexpected argument %q: %s takes flags only (appendonly %s --help)", positional[0], cmd, cmd)
	}
	switch {
	case cmd == "append" || cmd == "probe" || cmd == "verifier-key":
		if err := need("table", *table); err != nil {
			return 2, err
		}
	case cmd == "verify" && *since != "" && *table == "":
		return 2, usagef("--table is required with --since: the new entries' items are read from the table by key")
	case cmd == "verify" && *table == "" && *export == "":
		return 2, usagef("--table is required (or --export, a DynamoDB export of the table)")
	}
	var cfg *aws.Config
	loadCfg := func() (aws.Config, error) {
		if cfg == nil {
			c, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				return c, err
			}
			cfg = &c
		}
		return *cfg, nil
	}
	// DynamoDB is called only when a table is named: a journal copied to a
	// directory and an export are verified with no AWS at all.
	if d.db == nil && *table != "" && cmd != "check-proof" {
		c, err := loadCfg()
		if err != nil {
			return 2, err
		}
		d.db = dynamodb.NewFromConfig(c)
	}
	switch cmd {
	case "probe":
		client, ok := d.db.(*dynamodb.Client)
		if !ok {
			return 2, fmt.Errorf("probe needs a DynamoDB client")
		}
		pr := &probe.Prober{DB: client, S3: d.s3}
		if *bucket != "" && pr.S3 == nil {
			c, err := loadCfg()
			if err != nil {
				return 2, err
			}
			pr.S3 = s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil })
		}
		if _, ok := probe.Callers[*as]; !ok {
			return 2, usagef("--as %s: want user (a principal the construct grants to), administrator or deployer", *as)
		}
		results, err := pr.Run(ctx, probe.Target{Table: *table, Bucket: *bucket, Insert: *insert, As: *as})
		if err != nil {
			return 2, err
		}
		return probe.Print(stdout, *table, results, *asJSON), nil
	case "append":
		data := []byte(*item)
		if *item == "" {
			var err error
			if data, err = io.ReadAll(stdin); err != nil {
				return 2, err
			}
		}
		av, err := itemFromJSON(data)
		if err != nil {
			return 2, usagef("--item: %v", err)
		}
		if err := ledger.Append(ctx, d.db, *table, av); err != nil {
			return 2, err
		}
		fmt.Fprintln(stdout, "appended")
		return 0, nil
	case "verifier-key":
		if err := need("kms-key", *kmsKey); err != nil {
			return 2, err
		}
		desc, err := describe(ctx, d.db, *table)
		if err != nil {
			return 2, err
		}
		if d.kms == nil {
			c, err := loadCfg()
			if err != nil {
				return 2, err
			}
			client := kms.NewFromConfig(c)
			d.kms = func(ctx context.Context, key string) ([]byte, error) {
				out, err := client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(key)})
				if err != nil {
					return nil, err
				}
				return out.PublicKey, nil
			}
		}
		der, err := d.kms(ctx, *kmsKey)
		if err != nil {
			return 2, err
		}
		vk, err := journal.VerifierKey(aws.ToString(desc.TableArn), der)
		if err != nil {
			return 2, err
		}
		fmt.Fprintln(stdout, vk)
		return 0, nil
	}
	verifier, err := parseVerifierKey(*vkey)
	if err != nil {
		return 2, err
	}
	if cmd == "check-proof" {
		return checkProof(positional, stdin, stdout, verifier)
	}
	var desc *types.TableDescription
	if *table != "" {
		if desc, err = describe(ctx, d.db, *table); err != nil {
			return 2, err
		}
		if origin := aws.ToString(desc.TableArn); origin != verifier.Name() {
			return 2, usagef("--verifier-key: the key is %q's, not table %s's (%s)", verifier.Name(), *table, origin)
		}
	}
	if d.store == nil {
		switch {
		case *bucket != "" && *dir != "":
			return 2, usagef("--bucket and --dir: give one")
		case *dir != "":
			if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
				return 2, usagef("--dir: %s is not a directory", *dir)
			}
			d.store = &journal.DirStore{Dir: *dir}
		case *bucket != "":
			c, err := loadCfg()
			if err != nil {
				return 2, err
			}
			client := s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil })
			if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(*bucket)}); err != nil {
				return 2, usagef("--bucket: %s cannot be read: %v", *bucket, err)
			}
			d.store = &journal.S3Store{Client: client, Bucket: *bucket}
		default:
			return 2, usagef("--bucket is required (or --dir)")
		}
	}
	switch cmd {
	case "verify":
		if *segments < 1 {
			return 2, usagef("--segments %d: want 1 or more", *segments)
		}
		if *settle < 0 {
			return 2, usagef("--settle %v: want 0 or more", *settle)
		}
		var out *os.File
		if *checkpointOut != "" {
			// Created before the check, so that a path that cannot be
			// written fails fast; filled only once the check passes.
			f, err := os.Create(*checkpointOut)
			if err != nil {
				return 2, usagef("--checkpoint-out: %v", err)
			}
			defer f.Close()
			out = f
		}
		if *since != "" {
			if *export != "" {
				return 2, usagef("--since and --export: give one (--since reads the new items from the table, --export is for a full verify)")
			}
			from, err := os.ReadFile(*since)
			if err != nil {
				return 2, usagef("--since: %v", err)
			}
			return verifySince(ctx, d, *table, desc, verifier, from, *since, out, stdout)
		}
		src := &tableSource{table: *table, desc: desc, segments: *segments, db: d.db}
		if *export != "" {
			exp, err := openExport(ctx, *export, d, loadCfg)
			if err != nil {
				return 2, usagef("--export %s: %v", *export, err)
			}
			if exp.Summary.TableArn != verifier.Name() {
				return 2, usagef("--export %s: an export of %s, not of the journal's table %s", *export, exp.Summary.TableArn, verifier.Name())
			}
			src.export = exp
		}
		if desc == nil {
			if src.desc, err = descFromJournal(ctx, d.store, verifier); err != nil {
				return 2, err
			}
		}
		return verify(ctx, d, src, verifier, *settle, out, stdout, stderr)
	case "prove":
		if err := need("key", *key); err != nil {
			return 2, err
		}
		if desc == nil {
			if desc, err = descFromJournal(ctx, d.store, verifier); err != nil {
				return 2, err
			}
		}
		k, err := keyFromJSON(*key, desc)
		if err != nil {
			return 2, err
		}
		if !strings.HasSuffix(*out, ".tlog-proof") {
			return 2, usagef("--out %s: a proof file's name ends in .tlog-proof", *out)
		}
		var cp []byte
		if *checkpoint != "" {
			if cp, err = os.ReadFile(*checkpoint); err != nil {
				return 2, usagef("--checkpoint: %v", err)
			}
			if _, err := journal.OpenCheckpoint(cp, verifier); err != nil {
				return 2, usagef("--checkpoint %s is not a checkpoint signed with --verifier-key: %v", *checkpoint, err)
			}
		}
		return prove(ctx, d.store, verifier, k, cp, *out, stdout)
	}
	return 2, usagef("unknown command")
}

// descFromJournal describes the table as far as a verifier without access
// to it needs: its ARN (the verifier key's name) and its key attributes,
// from the journal's first signed entry.
func descFromJournal(ctx context.Context, store journal.Store, v note.Verifier) (*types.TableDescription, error) {
	enc, err := (&journal.Verifier{Store: store, Key: v}).FirstKey(ctx)
	if errors.Is(err, journal.ErrEmpty) {
		return nil, usagef("the journal has no entry yet, so the table's key attributes are unknown: give --table")
	}
	if err != nil {
		return nil, fmt.Errorf("reading the table's key attributes from the journal's first entry: %w (give --table)", err)
	}
	key, err := ledger.Decode(enc)
	if err != nil {
		return nil, err
	}
	desc := &types.TableDescription{TableArn: aws.String(v.Name())}
	var names []string
	for n := range key {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		typ := types.ScalarAttributeTypeS
		switch key[n].(type) {
		case *types.AttributeValueMemberN:
			typ = types.ScalarAttributeTypeN
		case *types.AttributeValueMemberB:
			typ = types.ScalarAttributeTypeB
		}
		desc.KeySchema = append(desc.KeySchema, types.KeySchemaElement{AttributeName: aws.String(n)})
		desc.AttributeDefinitions = append(desc.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: typ})
	}
	return desc, nil
}

func describe(ctx context.Context, db DB, table string) (*types.TableDescription, error) {
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil, usagef("--table: table %s not found (check the name and the Region)", table)
	}
	if err != nil {
		return nil, err
	}
	return out.Table, nil
}

func parseVerifierKey(s string) (note.Verifier, error) {
	if s == "" {
		return nil, usagef("--verifier-key is required: the journal's key (appendonly verifier-key prints it)")
	}
	if file, ok := strings.CutPrefix(s, "@"); ok {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, usagef("--verifier-key: %v", err)
		}
		s = strings.TrimSpace(string(data))
	}
	v, err := note.NewVerifier(s)
	if err != nil {
		if st, serr := os.Stat(s); serr == nil && !st.IsDir() {
			return nil, usagef("--verifier-key %s: %v: that is a file: give it as --verifier-key @%s", s, err, s)
		}
		return nil, usagef("--verifier-key: %v: want name+hash+key, as appendonly verifier-key prints it, or @FILE", err)
	}
	return v, nil
}

// prove writes the proof of each of the key's entries the checkpoint
// covers: the first to out, each later one to out's name with .<index>
// before .tlog-proof; an image kept as a blob goes beside its proof, in
// the proof's name with .image added.
func prove(ctx context.Context, store journal.Store, v note.Verifier, key, cp []byte, out string, stdout io.Writer) (int, error) {
	h, err := journal.Prove(ctx, store, v, key, cp)
	if errors.Is(err, journal.ErrNotInJournal) {
		fmt.Fprintf(stdout, "no journal entry holds the item with key %s\n", journal.FormatKey(key))
		return 1, nil
	}
	if err != nil {
		return 2, err
	}
	var files []string
	for i, p := range h.Proofs {
		file := out
		if i > 0 {
			file = strings.TrimSuffix(out, ".tlog-proof") + fmt.Sprintf(".%d.tlog-proof", p.Index)
		}
		text, _ := p.MarshalText()
		if err := os.WriteFile(file, text, 0o644); err != nil {
			return 2, err
		}
		if p.Image != nil {
			if err := os.WriteFile(file+".image", p.Image, 0o644); err != nil {
				return 2, err
			}
		}
		files = append(files, file)
		e, _ := journal.ParseEntry(p.Entry)
		fmt.Fprintf(stdout, "wrote %s: entry %d, the %s of item %s at %s\n", file, p.Index, e.Kind, journal.FormatKey(e.Key), e.Created.Format("2006-01-02T15:04:05Z"))
	}
	first, _ := journal.ParseEntry(h.Proofs[0].Entry)
	switch {
	case len(h.Proofs) > 1 || first.Kind != journal.Insert:
		fmt.Fprintf(stdout, "the item changed after it was journaled: check every proof together: appendonly check-proof --verifier-key K %s\n", strings.Join(files, " "))
	case len(h.Pending) > 0:
	default:
		return 0, nil
	}
	if len(h.Pending) > 0 {
		fmt.Fprintf(stdout, "the item has later entries after the checkpoint (journal entries %v): it changed; prove it again after the next checkpoint\n", h.Pending)
	}
	return 1, nil
}

// checkProof checks the proofs of one item's entries, given as files or
// one on standard input, and says whether the item changed after its
// first INSERT.
func checkProof(files []string, stdin io.Reader, stdout io.Writer, v note.Verifier) (int, error) {
	type checked struct {
		file string
		p    *journal.Proof
	}
	var proofs []checked
	read := func(file string, data []byte) error {
		p, err := journal.ParseProof(data)
		if err != nil {
			return usagef("%s: %v", file, err)
		}
		if image, err := os.ReadFile(file + ".image"); err == nil {
			p.Image = image
		}
		proofs = append(proofs, checked{file, p})
		return nil
	}
	if len(files) == 0 {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return 2, err
		}
		if err := read("standard input", data); err != nil {
			return 2, err
		}
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return 2, usagef("%v", err)
		}
		if err := read(file, data); err != nil {
			return 2, err
		}
	}
	var key []byte
	var entries []*journal.Entry
	sort.SliceStable(proofs, func(i, j int) bool { return proofs[i].p.Index < proofs[j].p.Index })
	for _, pr := range proofs {
		c, e, err := pr.p.Check(v)
		if err != nil {
			fmt.Fprintf(stdout, "the proof %s does not hold: %v\n", pr.file, err)
			return 1, nil
		}
		if key != nil && !bytes.Equal(key, e.Key) {
			return 2, usagef("%s proves an entry of item %s, the others of item %s: give the proofs of one item", pr.file, journal.FormatKey(e.Key), journal.FormatKey(key))
		}
		key = e.Key
		entries = append(entries, e)
		img := "{}"
		switch {
		case e.NewImage.Inline != nil:
			img = journal.FormatKey(e.NewImage.Inline) // numbers exactly as stored, normalized
		case e.NewImage.Present:
			img = fmt.Sprintf("(an image of %d bytes with SHA-256 %x, kept beside the journal; give it as %s.image)", e.NewImage.Size, e.NewImage.Sum, pr.file)
		case e.Kind == journal.Remove:
			img = "(removed)"
		}
		fmt.Fprintf(stdout, "the proof holds: entry %d (the %s of item %s at %s) is in %s's log of %d entries\n%s\n",
			pr.p.Index, e.Kind, journal.FormatKey(e.Key), e.Created.Format("2006-01-02T15:04:05Z"), c.Origin, c.Size, img)
	}
	if len(entries) > 1 || entries[0].Kind != journal.Insert {
		fmt.Fprintf(stdout, "the item changed after it was journaled: %d entries of it are proven; its record is its first INSERT's image\n", len(entries))
		return 1, nil
	}
	return 0, nil
}

// verifySince checks what the journal gained since the checkpoint from,
// verified before, and reads the new entries' items by key.
func verifySince(ctx context.Context, d *deps, table string, desc *types.TableDescription, v note.Verifier, from []byte, fromFile string, out *os.File, stdout io.Writer) (int, error) {
	inc, err := (&journal.Verifier{Store: d.store, Key: v}).Since(ctx, from)
	if errors.Is(err, journal.ErrNotACheckpoint) {
		return 2, usagef("--since %s: %v", fromFile, err)
	}
	if err != nil {
		return 2, err
	}
	problems, err := journal.CompareItems(inc, func(key []byte) ([]byte, bool, error) {
		return ledger.ReadItem(ctx, d.db, table, key)
	})
	if err != nil {
		return 2, fmt.Errorf("reading %s: %w", table, err)
	}
	problems = append(inc.Problems, problems...)
	fmt.Fprintf(stdout, "journal: %d entries appended since the checkpoint of %d, up to the newest checkpoint of %d\n", len(inc.Entries), inc.From.Size, inc.Latest.Size)
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stdout, "%d problems found\n", len(problems))
		return 1, nil
	}
	fmt.Fprintln(stdout, "intact since: the newest checkpoint consistent with the one verified before, every entry appended since in it, and its item in the table, identical")
	return 0, writeCheckpoint(out, inc.Signed, stdout)
}

// writeCheckpoint writes a verified checkpoint to out, when given.
func writeCheckpoint(out *os.File, signed []byte, stdout io.Writer) error {
	if out == nil || signed == nil {
		return nil
	}
	if _, err := out.Write(signed); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the newest checkpoint to %s: give it to --since next time\n", out.Name())
	return nil
}

// tableSource is the table a full verify compares: a DynamoDB export, or
// the table itself by a consistent parallel Scan.
type tableSource struct {
	table    string
	desc     *types.TableDescription // its key attributes
	segments int
	db       DB
	export   *ddbexport.Export
}

// time is when the table was read, as Audit.TableTime takes it: the
// export's time, or the scan's start less the clock skew allowed between
// this machine and DynamoDB.
func (s *tableSource) time(start time.Time) time.Time {
	if s.export != nil {
		return s.export.Summary.ExportTime
	}
	return start.Add(-journal.DedupClockSkew)
}

func (s *tableSource) String() string {
	if s.export != nil {
		return fmt.Sprintf("the export of %s at %s", s.export.Summary.TableArn, s.export.Summary.ExportTime.Format(time.RFC3339))
	}
	return "table " + s.table
}

// total is the number of items expected, for progress: exact for an
// export, DynamoDB's estimate (updated about every six hours) for a table.
func (s *tableSource) total() int64 {
	if s.export != nil {
		return s.export.Summary.ItemCount
	}
	return aws.ToInt64(s.desc.ItemCount)
}

// items gives every item, as its key's and its own canonical encodings.
func (s *tableSource) items(ctx context.Context, yield func(journal.TableItem) error) error {
	encode := func(it map[string]types.AttributeValue) error {
		keys := map[string]types.AttributeValue{}
		for _, k := range s.desc.KeySchema {
			name := aws.ToString(k.AttributeName)
			if it[name] == nil {
				return fmt.Errorf("an item without the key attribute %q: not an item of the journal's table", name)
			}
			keys[name] = it[name]
		}
		ke, err1 := ledger.Encode(keys)
		ie, err2 := ledger.Encode(it)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		return yield(journal.TableItem{Key: ke, Item: ie})
	}
	if s.export != nil {
		return s.export.Items(encode)
	}
	var mu sync.Mutex // the audit takes one item at a time
	errs := make([]error, s.segments)
	var wg sync.WaitGroup
	for seg := 0; seg < s.segments; seg++ {
		wg.Add(1)
		go func(seg int) {
			defer wg.Done()
			p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{TableName: aws.String(s.table), Segment: aws.Int32(int32(seg)),
				TotalSegments: aws.Int32(int32(s.segments)), ConsistentRead: aws.Bool(true)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					errs[seg] = fmt.Errorf("scanning %s: %w", s.table, err)
					return
				}
				mu.Lock()
				for _, it := range page.Items {
					if err = encode(it); err != nil {
						break
					}
				}
				mu.Unlock()
				if err != nil {
					errs[seg] = err
					return
				}
			}
		}(seg)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// verify audits the whole journal against the whole table, in bounded
// memory, printing each problem as it is found and the progress of long
// runs on stderr.
func verify(ctx context.Context, d *deps, src *tableSource, v note.Verifier, settle time.Duration, out *os.File, stdout, stderr io.Writer) (int, error) {
	now := d.now
	if now == nil {
		now = time.Now
	}
	start := now()
	pp := &progressPrinter{w: stderr, now: now, start: start, last: start, items: src.total()}
	a := &journal.Audit{Verifier: journal.Verifier{Store: d.store, Key: v}, TableTime: src.time(start), Settle: settle, Sleep: d.sleep,
		OnSettle: func(n int, wait time.Duration) {
			fmt.Fprintf(stderr, "verify: %d items in the table are in no journal entry yet: looking again in %s, once the sequencer has caught up (--settle)\n", n, wait)
		},
		Progress: pp.print}
	res, err := a.Run(ctx, func(yield func(journal.TableItem) error) error { return src.items(ctx, yield) },
		func(p journal.Problem) { fmt.Fprintln(stdout, p) })
	if err != nil {
		return 2, err
	}
	l := res.Log
	fmt.Fprintf(stdout, "journal: %d entries, %d checkpoint versions (the latest covers %d entries)\n", l.Size, len(l.Checkpoints), l.Latest.Size)
	fmt.Fprintf(stdout, "%s: %d items\n", src, res.Items)
	if res.Pending > 0 {
		fmt.Fprintf(stdout, "%d items are not yet covered: journaled after the latest checkpoint, which the next one covers\n", res.Pending)
	}
	if res.After > 0 {
		fmt.Fprintf(stdout, "%d items journaled after the table was read are not in it: the next verify compares them\n", res.After)
	}
	switch {
	case res.Problems > 0:
		fmt.Fprintf(stdout, "%d problems found\n", res.Problems)
		return 1, nil
	case l.Size == 0 && res.Items == 0:
		fmt.Fprintln(stdout, "nothing to verify: the journal and the table are empty")
	default:
		fmt.Fprintf(stdout, "intact: every checkpoint signed and consistent, every item in the table journaled and identical\n")
	}
	for _, c := range l.Checkpoints {
		if c.Checkpoint == l.Latest && l.Latest.Size > 0 {
			return 0, writeCheckpoint(out, c.Signed, stdout)
		}
	}
	return 0, nil
}

// progressPrinter prints an audit's progress on stderr, at most every
// progressInterval, so that a verify of a few seconds prints none: what
// was read, the rate, and the time the phase has left.
type progressPrinter struct {
	w           io.Writer
	now         func() time.Time
	start, last time.Time
	items       int64 // expected, 0 unknown
	printed     bool
	phase       string
	phaseStart  time.Time
	lastCall    time.Time // the previous phase ended then
}

const progressInterval = 5 * time.Second

func (pp *progressPrinter) print(p journal.Progress) {
	t := pp.now()
	if p.Phase != pp.phase {
		pp.phase, pp.phaseStart = p.Phase, pp.lastCall
		if pp.lastCall.IsZero() {
			pp.phaseStart = pp.start
		}
	}
	pp.lastCall = t
	if t.Sub(pp.last) < progressInterval && !(p.Done && pp.printed) {
		return
	}
	pp.last, pp.printed = t, true
	var done, total int64
	var what string
	switch p.Phase {
	case "table":
		done, total, what = p.Items, pp.items, "items read"
	case "journal":
		done, total, what = p.Entries, p.EntriesTotal, "entries read"
	default:
		done, total, what = int64(p.Parts), int64(p.PartsTotal), "parts compared"
	}
	line := fmt.Sprintf("verify: %s: %d %s", p.Phase, done, what)
	if total > 0 {
		line += fmt.Sprintf(" of about %d", total)
	}
	line += fmt.Sprintf(" after %s", t.Sub(pp.start).Round(time.Second))
	if secs := t.Sub(pp.phaseStart).Seconds(); !p.Done && secs > 0 && done > 0 {
		rate := float64(done) / secs
		line += fmt.Sprintf(", %.0f a second", rate)
		if total > done {
			line += fmt.Sprintf(", about %s left in this phase", time.Duration(float64(total-done)/rate*float64(time.Second)).Round(time.Second))
		}
	}
	if p.Done {
		line += ": done"
	}
	fmt.Fprintln(pp.w, line)
}

// keyFromJSON reads a key: exactly the table's key attributes, each of its
// type: a string for S, a number for N, {"B": "<base64>"} for B, or any of
// them in DynamoDB JSON ({"S": "x"}, {"N": "1"}).
func keyFromJSON(s string, desc *types.TableDescription) ([]byte, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var given map[string]any
	if err := dec.Decode(&given); err != nil || dec.More() {
		return nil, usagef("--key: not a JSON object: %s", s)
	}
	typ := map[string]string{}
	for _, d := range desc.AttributeDefinitions {
		typ[aws.ToString(d.AttributeName)] = string(d.AttributeType)
	}
	var names []string
	for _, k := range desc.KeySchema {
		names = append(names, aws.ToString(k.AttributeName))
	}
	key := map[string]types.AttributeValue{}
	for _, n := range names {
		v, ok := given[n]
		if !ok {
			return nil, usagef("--key: no %q: the table's key attributes are %s", n, strings.Join(names, " and "))
		}
		av, err := keyValue(n, typ[n], v)
		if err != nil {
			return nil, err
		}
		key[n] = av
	}
	for n := range given {
		if _, ok := key[n]; !ok {
			return nil, usagef("--key: %q is not a key attribute: the table's key attributes are %s", n, strings.Join(names, " and "))
		}
	}
	return ledger.Encode(key)
}

var typeNames = map[string]string{"S": "a string (S)", "N": "a number (N)", "B": "binary (B)"}

// keyValue converts the JSON value of key attribute name, of DynamoDB
// type typ (S, N or B; "" when the table does not say: S or N as given).
func keyValue(name, typ string, v any) (types.AttributeValue, error) {
	wrong := func(got string) error {
		forms := map[string]string{"S": `"x" or {"S": "x"}`, "N": `12 or {"N": "12"}`, "B": `{"B": "<base64>"}`}
		return usagef("--key: %q is %s in the table, given %s: give it as %s", name, typeNames[typ], got, forms[typ])
	}
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for t, x := range m {
			str, ok := x.(string)
			if !ok || typeNames[t] == "" {
				break
			}
			if typ != "" && t != typ {
				return nil, wrong(typeNames[t])
			}
			switch t {
			case "S":
				return &types.AttributeValueMemberS{Value: str}, nil
			case "N":
				if _, err := ledger.Encode(map[string]types.AttributeValue{name: &types.AttributeValueMemberN{Value: str}}); err != nil {
					return nil, usagef("--key: %q: %q is not a DynamoDB number", name, str)
				}
				return &types.AttributeValueMemberN{Value: str}, nil
			default:
				b, err := base64.StdEncoding.DecodeString(str)
				if err != nil {
					return nil, usagef("--key: %q: %q is not base64", name, str)
				}
				return &types.AttributeValueMemberB{Value: b}, nil
			}
		}
	}
	switch v := v.(type) {
	case string:
		if typ == "S" || typ == "" {
			return &types.AttributeValueMemberS{Value: v}, nil
		}
		return nil, wrong("a string")
	case json.Number:
		if typ == "N" || typ == "" {
			return keyValue(name, "N", map[string]any{"N": v.String()})
		}
		return nil, wrong("a number")
	}
	switch v.(type) {
	case bool:
		return nil, wrong("a boolean")
	case nil:
		return nil, wrong("null")
	case []any:
		return nil, wrong("a list")
	}
	return nil, wrong("an object that is not DynamoDB JSON")
}

// itemFromJSON converts a JSON object to an item: objects to M, arrays to L,
// strings to S, numbers to N as written, booleans to BOOL, null to NULL.
func itemFromJSON(data []byte) (map[string]types.AttributeValue, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("followed by more JSON")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
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
