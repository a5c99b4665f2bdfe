package appendonly

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/internal/cdktest"
)

// BenchmarkGuard synthesizes the stacks BenchmarkSynth does (n tables, each
// with its own user), alternately with the write-grant guard armed, as
// NewTable always arms it, and without, so that both see the same machine
// state. It reports the median of each, per table, and the guard's share.
//
//	go test -run '^$' -bench Guard -benchtime 20x ./constructs/appendonly
func BenchmarkGuard(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("tables=%d", n), func(b *testing.B) {
			var off, on, share []time.Duration
			for i := 0; i < b.N; i++ {
				d, _ := synthGuarded(b, n, false)
				off = append(off, d)
				d, g := synthGuarded(b, n, true)
				on = append(on, d)
				share = append(share, time.Duration(float64(g)/float64(d)*1e6)) // parts per million
			}
			mOff, mOn := median(off), median(on)
			b.ReportMetric(float64(mOff.Nanoseconds())/float64(n)/1e6, "off-ms/table")
			b.ReportMetric(float64(mOn.Nanoseconds())/float64(n)/1e6, "on-ms/table")
			b.ReportMetric(100*(float64(mOn)/float64(mOff)-1), "guard-%")
			// The guard's own time, measured inside it, as a share of the
			// same synthesis: steadier than the difference of two medians.
			b.ReportMetric(float64(median(share))/1e4, "guard-share-%")
		})
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// synthGuarded times building and synthesizing n tables, and the guard.
func synthGuarded(b *testing.B, n int, guarded bool) (time.Duration, time.Duration) {
	b.Helper()
	app := cdktest.NewApp(b)
	stack := awscdk.NewStack(app, jsii.String("Bench"), nil)
	start := time.Now()
	if !guarded {
		// A registry made without the plugin: NewTable finds it and arms
		// nothing.
		constructs.NewConstruct_Override(newRegistry(), app, jsii.String(registryID))
	}
	for j := 0; j < n; j++ {
		if _, err := NewTable(stack, fmt.Sprintf("Ledger%d", j), &Props{
			TableProps: &awsdynamodb.TableProps{
				PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
				SortKey:      &awsdynamodb.Attribute{Name: jsii.String("at"), Type: awsdynamodb.AttributeType_NUMBER},
			},
			User: &UserProps{},
		}); err != nil {
			b.Fatal(err)
		}
	}
	assertions.Template_FromStack(stack, nil)
	return time.Since(start), registryOf(stack).guardTime
}
