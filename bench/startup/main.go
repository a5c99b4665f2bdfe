// Command startup creates a CDK App and nothing else: the jsii start-up
// (spawning Node.js, starting the kernel, loading aws-cdk-lib) that every Go
// CDK app pays, for bench/twin/run.sh to time against Node.js doing the same.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	awscdk.NewApp(nil)
}
