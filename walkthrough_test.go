package main

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// The walkthrough's cdk.json carries the same feature flags as this
// repository's, which every test synthesizes with, and runs `go run .`.
func TestWalkthroughCdkJSONHasTheFeatureFlags(t *testing.T) {
	read := func(path string) map[string]any {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return m
	}
	repo, walk := read("cdk.json"), read("walkthrough/cdk.json")
	if !reflect.DeepEqual(repo["context"], walk["context"]) {
		t.Error("walkthrough/cdk.json's context differs from cdk.json's: copy the feature flags across")
	}
	if walk["app"] != "go run ." {
		t.Errorf(`walkthrough/cdk.json: app %v, want "go run ."`, walk["app"])
	}
}
