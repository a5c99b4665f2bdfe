//go:build tools

// Package versitygw pins Versity Gateway, the S3 server over a directory
// that the journal's tests run against (Apache-2.0), in a module of its own
// so that its dependencies never reach the appendonly module's users.
// Build it with `make deps` (bin/versitygw).
package versitygw

import _ "github.com/versity/versitygw/cmd/versitygw"
