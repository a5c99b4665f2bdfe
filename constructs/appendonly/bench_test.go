package appendonly_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/constructs/appendonly"
	"github.com/appendonly/appendonly/internal/cdktest"
	"github.com/appendonly/appendonly/internal/nagtest"
)

// BenchmarkSynth synthesizes a stack holding n append-only tables, each with
// its own IAM user as in the article (table, managed policy, group, user),
// with and without the four cdk-nag packs. It reports the time per table,
// CloudFormation resources and template bytes per table, and the peak
// resident memory of the jsii Node.js process, which does the synthesis.
//
//	go test -run '^$' -bench Synth -benchtime 3x ./constructs/appendonly
func BenchmarkSynth(b *testing.B) {
	for _, nag := range []bool{false, true} {
		for _, n := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("tables=%d/nag=%v", n, nag), func(b *testing.B) {
				var resources, bytes int
				for i := 0; i < b.N; i++ {
					resources, bytes = synthTables(b, n, nag)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n)/1e6, "ms/table")
				b.ReportMetric(float64(resources)/float64(n), "resources/table")
				b.ReportMetric(float64(bytes)/float64(n), "bytes/table")
				if kib, err := nodePeakRSSKiB(); err == nil {
					b.ReportMetric(float64(kib)/1024, "node-peak-MiB")
				}
			})
		}
	}
}

func synthTables(b *testing.B, n int, nag bool) (resources, bytes int) {
	b.Helper()
	app := cdktest.NewApp(b)
	if nag {
		app = nagtest.NewApp(b)
	}
	stack := awscdk.NewStack(app, jsii.String("Bench"), nil)
	for j := 0; j < n; j++ {
		_, err := appendonly.NewTable(stack, fmt.Sprintf("Ledger%d", j), &appendonly.Props{
			TableProps: &awsdynamodb.TableProps{PartitionKey: key("id"), SortKey: key("at")},
			User:       &appendonly.UserProps{},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if nag {
		if findings := nagtest.Findings(b, stack); len(findings) > 0 {
			b.Fatalf("cdk-nag: %v", findings)
		}
	}
	tmpl := assertions.Template_FromStack(stack, nil).ToJSON()
	data, err := json.Marshal(*tmpl)
	if err != nil {
		b.Fatal(err)
	}
	res, _ := (*tmpl)["Resources"].(map[string]any)
	return len(res), len(data)
}

// nodePeakRSSKiB returns the largest VmHWM (peak resident set) among the
// node processes descended from this one: the jsii runtime and its kernel.
func nodePeakRSSKiB() (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	parent := map[int]int{}
	isNode := map[int]bool{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 2 {
			continue
		}
		parent[pid], _ = strconv.Atoi(fields[1])
		isNode[pid] = strings.Contains(s[:strings.LastIndexByte(s, ')')+1], "(node")
	}
	self := os.Getpid()
	descends := func(pid int) bool {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == self {
				return true
			}
		}
		return false
	}
	peak := 0
	for pid := range parent {
		if !isNode[pid] || !descends(pid) {
			continue
		}
		f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kib, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
				peak = max(peak, kib)
			}
		}
		f.Close()
	}
	if peak == 0 {
		return 0, fmt.Errorf("no node process below process %d", self)
	}
	return peak, nil
}

// BenchmarkConstruct measures what the construct itself costs: creating n
// tables (every jsii round trip NewTable makes), without synthesis.
func BenchmarkConstruct(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("tables=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				stack := awscdk.NewStack(cdktest.NewApp(b), jsii.String("Bench"), nil)
				b.StartTimer()
				for j := 0; j < n; j++ {
					if _, err := appendonly.NewTable(stack, fmt.Sprintf("Ledger%d", j), &appendonly.Props{
						TableProps: &awsdynamodb.TableProps{PartitionKey: key("id"), SortKey: key("at")},
						User:       &appendonly.UserProps{},
					}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n)/1e6, "ms/table")
		})
	}
}

// BenchmarkSynthValidation measures CDK's built-in CloudFormation validation,
// which `cdk synth` runs and the tests turn off, on a stack of 10 tables.
func BenchmarkSynthValidation(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("builtin-validation=%v", on), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ctx, err := cdktest.Context()
				if err != nil {
					b.Fatal(err)
				}
				c := map[string]any{}
				for k, v := range ctx {
					c[k] = v
				}
				app := awscdk.NewApp(&awscdk.AppProps{Context: &c, BuiltinCloudFormationValidation: jsii.Bool(on), Outdir: jsii.String(b.TempDir())})
				stack := awscdk.NewStack(app, jsii.String("Bench"), nil)
				for j := 0; j < 10; j++ {
					if _, err := appendonly.NewTable(stack, fmt.Sprintf("Ledger%d", j), &appendonly.Props{
						TableProps: &awsdynamodb.TableProps{PartitionKey: key("id")},
						User:       &appendonly.UserProps{},
					}); err != nil {
						b.Fatal(err)
					}
				}
				app.Synth(nil)
			}
		})
	}
}
