//lint:file-ignore SA1019 assertions.Annotations returns cxapi.SynthesisMessage; the Go bindings offer no other type

// Package nagtest runs the cdk-nag rule packs on a stack and returns every
// finding that is not suppressed.
package nagtest

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/appendonly/appendonly/internal/cdktest"
)

// NewApp returns an App for a cdk-nag run. cdk.json turns on
// @aws-cdk/core:annotationsInValidationReport, which makes synthesis fail on
// the first error annotation; here it is off so that every finding can be
// read back as an annotation and reported at once.
func NewApp(t testing.TB) awscdk.App {
	t.Helper()
	return cdktest.NewAppWithContext(t, map[string]any{
		"@aws-cdk/core:annotationsInValidationReport": false,
	})
}

// Packs are the rule packs every configuration must pass.
var Packs = []string{"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"}

// Findings applies the AwsSolutions, NIST 800-53 rev 5, HIPAA Security and
// PCI DSS 3.2.1 packs to stack and returns each unsuppressed error and
// warning as "level id path: message", sorted.
func Findings(t testing.TB, stack awscdk.Stack) []string {
	t.Helper()
	aspects := awscdk.Aspects_Of(stack)
	aspects.Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	aspects.Add(cdknag.NewNIST80053R5Checks(nil), nil)
	aspects.Add(cdknag.NewHIPAASecurityChecks(nil), nil)
	aspects.Add(cdknag.NewPCIDSS321Checks(nil), nil)

	annotations := assertions.Annotations_FromStack(stack)
	var out []string
	for level, msgs := range map[string]*[]*cxapi.SynthesisMessage{
		"error":   annotations.FindError(jsii.String("*"), assertions.Match_AnyValue()),
		"warning": annotations.FindWarning(jsii.String("*"), assertions.Match_AnyValue()),
	} {
		for _, m := range *msgs {
			msg := fmt.Sprint(m.Entry.Data)
			for _, pack := range Packs {
				if strings.HasPrefix(msg, pack+"-") {
					out = append(out, fmt.Sprintf("%s %s: %s", level, *m.Id, msg))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}
