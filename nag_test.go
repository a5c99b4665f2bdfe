package main

import (
	"testing"

	"github.com/appendonly/appendonly/internal/nagtest"
)

func TestAppPassesCdkNag(t *testing.T) {
	stack, err := NewMusicStack(nagtest.NewApp(t), StackName, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range nagtest.Findings(t, stack) {
		t.Error(f)
	}
}
