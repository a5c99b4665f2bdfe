package main

import "testing"

// TestDemo runs the demo as make demo does: it fails unless verification
// passes on the untouched journal and names exactly the changed item.
func TestDemo(t *testing.T) {
	if err := run(); err != nil {
		t.Fatal(err)
	}
}
