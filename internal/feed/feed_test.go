package feed

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// The construct's synthesized journals, as their golden files hold them:
// beside the table, and in an account of its own.
var goldens = []string{"Journal.template.json", "TwoAccounts.journal.template.json"}

func goldenPath(name string) string {
	return filepath.Join("..", "..", "constructs", "appendonly", "testdata", "configurations", name)
}

const (
	function = "Sequencer"
	stream   = "arn:aws:dynamodb:us-east-1:111122223333:table/Ledger/stream/2026-01-01T00:00:00.000"
	other    = "arn:aws:dynamodb:us-east-1:111122223333:table/Ledger/stream/2026-02-02T00:00:00.000"
)

type template struct {
	Resources map[string]struct {
		Type       string         `json:"Type"`
		Properties map[string]any `json:"Properties"`
	} `json:"Resources"`
}

func load(t *testing.T, name string) template {
	t.Helper()
	data, err := os.ReadFile(goldenPath(name))
	if err != nil {
		t.Fatal(err)
	}
	var tmpl template
	if err := json.Unmarshal(data, &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// ofType returns the logical ids of the template's resources of a type.
func (tmpl template) ofType(typ string) []string {
	var out []string
	for id, r := range tmpl.Resources {
		if r.Type == typ {
			out = append(out, id)
		}
	}
	return out
}

// deployed is the feed as CloudFormation deploys a template, served as the
// Lambda and DynamoDB Streams APIs answer about it.
type deployed struct {
	mappings    []lambdatypes.EventSourceMappingConfiguration
	concurrency *int32
	streams     map[string]streamtypes.StreamStatus
	describeErr error
}

// deploy reads the feed from the template: each event source mapping, with
// what Lambda reports for its properties, the sequencer's reserved
// concurrency and the table's stream. It checks that the sequencer is told
// the same stream its mapping reads.
func deploy(t *testing.T, tmpl template) *deployed {
	t.Helper()
	d := &deployed{streams: map[string]streamtypes.StreamStatus{}}
	// The sequencer is the function told the stream, which is the table's
	// (beside it) or the stream lookup's answer (in another account).
	var fn map[string]any
	var streamRef string
	for _, id := range tmpl.ofType("AWS::Lambda::Function") {
		p := tmpl.Resources[id].Properties
		env, _ := p["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if ref, ok := vars["JOURNAL_STREAM"]; ok {
			b, _ := json.Marshal(ref)
			fn, streamRef = p, string(b)
		}
	}
	if fn == nil {
		t.Fatal("no function in the template is told the table's stream")
	}
	if c, ok := fn["ReservedConcurrentExecutions"].(float64); ok {
		d.concurrency = aws.Int32(int32(c))
	}
	d.streams[stream] = streamtypes.StreamStatusEnabled
	if tables := tmpl.ofType("AWS::DynamoDB::Table"); len(tables) > 0 {
		if want := `{"Fn::GetAtt":["` + tables[0] + `","StreamArn"]}`; streamRef != want {
			t.Fatalf("the sequencer is told %s, want the table's stream %s", streamRef, want)
		}
		if _, ok := tmpl.Resources[tables[0]].Properties["StreamSpecification"]; !ok {
			d.streams[stream] = streamtypes.StreamStatusDisabled // the stream the stack had, turned off
		}
	} else if lookups := tmpl.ofType("Custom::AppendOnlyTableStream"); len(lookups) != 1 || streamRef != `{"Fn::GetAtt":["`+lookups[0]+`","StreamArn"]}` {
		t.Fatalf("the sequencer is told %s, want the stream lookup's answer", streamRef)
	}
	for _, id := range tmpl.ofType("AWS::Lambda::EventSourceMapping") {
		p := tmpl.Resources[id].Properties
		src, _ := json.Marshal(p["EventSourceArn"])
		m := lambdatypes.EventSourceMappingConfiguration{UUID: aws.String(id), State: aws.String("Enabled")}
		switch string(src) {
		case streamRef:
			m.EventSourceArn = aws.String(stream)
		default:
			m.EventSourceArn = aws.String(other)
		}
		if e, ok := p["Enabled"].(bool); ok && !e {
			m.State = aws.String("Disabled")
		}
		if fc, ok := p["FilterCriteria"].(map[string]any); ok {
			filters, _ := fc["Filters"].([]any)
			m.FilterCriteria = &lambdatypes.FilterCriteria{Filters: make([]lambdatypes.Filter, len(filters))}
		}
		// Lambda reports -1 for a stream mapping's retries and record age
		// when the template sets none.
		m.MaximumRetryAttempts, m.MaximumRecordAgeInSeconds = aws.Int32(-1), aws.Int32(-1)
		if v, ok := p["MaximumRetryAttempts"].(float64); ok {
			m.MaximumRetryAttempts = aws.Int32(int32(v))
		}
		if v, ok := p["MaximumRecordAgeInSeconds"].(float64); ok {
			m.MaximumRecordAgeInSeconds = aws.Int32(int32(v))
		}
		m.LastProcessingResult = aws.String("OK")
		d.mappings = append(d.mappings, m)
	}
	return d
}

func (d *deployed) ListEventSourceMappings(_ context.Context, in *lambda.ListEventSourceMappingsInput, _ ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error) {
	if aws.ToString(in.FunctionName) != function {
		return nil, errors.New("no such function")
	}
	return &lambda.ListEventSourceMappingsOutput{EventSourceMappings: d.mappings}, nil
}

func (d *deployed) GetFunctionConcurrency(context.Context, *lambda.GetFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.GetFunctionConcurrencyOutput, error) {
	return &lambda.GetFunctionConcurrencyOutput{ReservedConcurrentExecutions: d.concurrency}, nil
}

func (d *deployed) DescribeStream(_ context.Context, in *dynamodbstreams.DescribeStreamInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	if d.describeErr != nil {
		return nil, d.describeErr
	}
	status, ok := d.streams[aws.ToString(in.StreamArn)]
	if !ok {
		return nil, &streamtypes.ResourceNotFoundException{Message: aws.String("no such stream")}
	}
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: &streamtypes.StreamDescription{StreamStatus: status}}, nil
}

func check(d *deployed) []string {
	return (&Checker{Lambda: d, Streams: d, Function: function, Stream: stream}).Check(context.Background())
}

func edit(tmpl template, typ string, f func(props map[string]any)) template {
	out := template{Resources: map[string]struct {
		Type       string         `json:"Type"`
		Properties map[string]any `json:"Properties"`
	}{}}
	for id, r := range tmpl.Resources {
		props := map[string]any{}
		for k, v := range r.Properties {
			props[k] = v
		}
		if r.Type == typ {
			f(props)
		}
		r.Properties = props
		out.Resources[id] = r
	}
	return out
}

// TestEveryWayTheFeedStopsIsFound applies each way of stopping or thinning
// the feed to the construct's template, or to what it deployed when the
// change is made outside CloudFormation, and checks that the feed check
// reports it; the template as synthesized reports nothing.
func TestEveryWayTheFeedStopsIsFound(t *testing.T) {
	for _, name := range goldens {
		t.Run(name, func(t *testing.T) { everyWay(t, load(t, name)) })
	}
}

func everyWay(t *testing.T, tmpl template) {
	if f := check(deploy(t, tmpl)); len(f) != 0 {
		t.Fatalf("the journal as synthesized: %v, want no finding", f)
	}
	const mapping, fn, table = "AWS::Lambda::EventSourceMapping", "AWS::Lambda::Function", "AWS::DynamoDB::Table"
	for _, c := range []struct {
		name   string
		change func(t *testing.T) *deployed
		want   string
	}{
		{"the mapping disabled", func(t *testing.T) *deployed {
			return deploy(t, edit(tmpl, mapping, func(p map[string]any) { p["Enabled"] = false }))
		}, "is Disabled"},
		{"the mapping filtered", func(t *testing.T) *deployed {
			return deploy(t, edit(tmpl, mapping, func(p map[string]any) {
				p["FilterCriteria"] = map[string]any{"Filters": []any{map[string]any{"Pattern": `{"eventName":["INSERT"]}`}}}
			}))
		}, "filter"},
		{"the mapping deleted", func(t *testing.T) *deployed {
			d := deploy(t, tmpl)
			d.mappings = nil
			return d
		}, "no event source mapping feeds"},
		{"the mapping's retries bounded", func(t *testing.T) *deployed {
			return deploy(t, edit(tmpl, mapping, func(p map[string]any) { p["MaximumRetryAttempts"] = 2.0 }))
		}, "gives up after 2 retries"},
		{"the mapping's record age bounded", func(t *testing.T) *deployed {
			return deploy(t, edit(tmpl, mapping, func(p map[string]any) { p["MaximumRecordAgeInSeconds"] = 60.0 }))
		}, "drops records older than 60 seconds"},
		{"concurrency 0", func(t *testing.T) *deployed {
			return deploy(t, edit(tmpl, fn, func(p map[string]any) { p["ReservedConcurrentExecutions"] = 0.0 }))
		}, "reserved concurrency is 0"},
		{"the stream turned off", func(t *testing.T) *deployed {
			if len(tmpl.ofType(table)) == 0 { // in the table's account, outside this template
				d := deploy(t, tmpl)
				d.streams[stream] = streamtypes.StreamStatusDisabled
				return d
			}
			return deploy(t, edit(tmpl, table, func(p map[string]any) { delete(p, "StreamSpecification") }))
		}, "is DISABLED"},
		{"the stream turned off and on outside CloudFormation", func(t *testing.T) *deployed {
			d := deploy(t, tmpl)
			d.streams[stream], d.streams[other] = streamtypes.StreamStatusDisabled, streamtypes.StreamStatusEnabled
			return d
		}, "is DISABLED"},
		{"the stream's resource policy removed", func(t *testing.T) *deployed {
			d := deploy(t, tmpl)
			d.describeErr = errors.New("AccessDeniedException: no resource-based policy allows the dynamodb:DescribeStream action")
			return d
		}, "cannot be described"},
		{"the sequencer failing on every retry", func(t *testing.T) *deployed {
			d := deploy(t, tmpl)
			d.mappings[0].LastProcessingResult = aws.String("PROBLEM: Function call failed")
			return d
		}, "PROBLEM: Function call failed"},
		{"a mapping from another stream", func(t *testing.T) *deployed {
			d := deploy(t, tmpl)
			d.mappings = append(d.mappings, lambdatypes.EventSourceMappingConfiguration{UUID: aws.String("x"), EventSourceArn: aws.String(other), State: aws.String("Enabled")})
			return d
		}, "not the table's stream"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := check(c.change(t))
			if !strings.Contains(strings.Join(f, "\n"), c.want) {
				t.Errorf("findings %q, want one saying %q", f, c.want)
			}
		})
	}
}

// alarm is the feed alarm as the template configures it.
type alarm struct {
	period, evaluations int // seconds, periods
	threshold           float64
	breachingMissing    bool
}

func feedAlarm(t *testing.T, tmpl template) (alarm, time.Duration) {
	t.Helper()
	var a alarm
	found := false
	for _, id := range tmpl.ofType("AWS::CloudWatch::Alarm") {
		p := tmpl.Resources[id].Properties
		if p["MetricName"] != "JournalFeedHealthy" {
			continue
		}
		found = true
		if p["ComparisonOperator"] != "LessThanThreshold" || p["Statistic"] != "Minimum" {
			t.Fatalf("the feed alarm compares %v of %v, want Minimum LessThanThreshold", p["Statistic"], p["ComparisonOperator"])
		}
		a = alarm{period: int(p["Period"].(float64)), evaluations: int(p["EvaluationPeriods"].(float64)),
			threshold: p["Threshold"].(float64), breachingMissing: p["TreatMissingData"] == "breaching"}
	}
	if !found {
		t.Fatal("the template has no alarm on JournalFeedHealthy")
	}
	// The schedule whose target is the sequencer: the function told the
	// table's stream.
	var sequencer string
	for _, id := range tmpl.ofType("AWS::Lambda::Function") {
		if env, _ := json.Marshal(tmpl.Resources[id].Properties["Environment"]); strings.Contains(string(env), "JOURNAL_STREAM") {
			sequencer = id
		}
	}
	var every time.Duration
	for _, id := range tmpl.ofType("AWS::Events::Rule") {
		expr, _ := tmpl.Resources[id].Properties["ScheduleExpression"].(string)
		targets, _ := json.Marshal(tmpl.Resources[id].Properties["Targets"])
		if !strings.Contains(string(targets), `"Fn::GetAtt":["`+sequencer+`","Arn"]`) {
			continue
		}
		if rate, ok := strings.CutPrefix(expr, "rate("); ok {
			d, err := time.ParseDuration(strings.NewReplacer(" minutes)", "m", " minute)", "m").Replace(rate))
			if err != nil {
				t.Fatalf("schedule %q: %v", expr, err)
			}
			every = d
		}
	}
	if every == 0 {
		t.Fatal("the template has no schedule for the feed check")
	}
	return a, every
}

// firesAt models CloudWatch: the feed check reports at offset, offset +
// every, ...; before change it reports 1, after it reports 0 (or nothing
// when silent); each period's datapoint is the minimum reported in it. It
// returns when the alarm fires: at the end of the last of evaluations
// breaching periods in a row, or -1 within an hour.
func (a alarm) firesAt(offset, every, change time.Duration, silent bool) time.Duration {
	p := time.Duration(a.period) * time.Second
	run := 0
	for k := 0; time.Duration(k)*p < time.Hour; k++ {
		lo, hi := time.Duration(k)*p, time.Duration(k+1)*p
		value, reported := math.Inf(1), false
		for c := offset; c < hi; c += every {
			if c < lo {
				continue
			}
			if c < change {
				value, reported = math.Min(value, 1), true
			} else if !silent {
				value, reported = math.Min(value, 0), true
			}
		}
		breaching := (reported && value < a.threshold) || (!reported && a.breachingMissing)
		if breaching {
			run++
		} else {
			run = 0
		}
		if run >= a.evaluations {
			return hi
		}
	}
	return -1
}

// TestFeedAlarmFiresWithin15Minutes: whatever the schedule's offset and
// when the change falls, the feed alarm as synthesized fires within 15
// minutes of a feed that stops or thins, or of a check that stops
// reporting; and never on a healthy feed.
func TestFeedAlarmFiresWithin15Minutes(t *testing.T) {
	for _, name := range goldens {
		t.Run(name, func(t *testing.T) { alarmWithin15Minutes(t, load(t, name)) })
	}
}

func alarmWithin15Minutes(t *testing.T, tmpl template) {
	a, every := feedAlarm(t, tmpl)
	var worst time.Duration
	for offset := time.Duration(0); offset < every; offset += 10 * time.Second {
		if got := a.firesAt(offset, every, 2*time.Hour, false); got >= 0 {
			t.Fatalf("offset %v: a healthy feed raises the alarm at %v", offset, got)
		}
		for change := 30 * time.Minute; change < 30*time.Minute+2*every; change += 10 * time.Second {
			for _, silent := range []bool{false, true} {
				at := a.firesAt(offset, every, change, silent)
				if at < 0 {
					t.Fatalf("offset %v, change at %v, silent %v: the alarm never fires", offset, change, silent)
				}
				worst = max(worst, at-change)
			}
		}
	}
	if worst > 15*time.Minute {
		t.Errorf("the feed alarm fires up to %v after the change, want at most 15 minutes", worst)
	}
	t.Logf("the feed alarm fires at most %v after the feed stops (checks every %v, %d periods of %ds)", worst, every, a.evaluations, a.period)
}
