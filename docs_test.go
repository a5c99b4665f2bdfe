package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsLinksResolve: every relative link of the README, CONTRIBUTING,
// CHANGELOG and docs/ names a file of the repository, and every anchor a
// heading of the file it points into (as GitHub makes anchors of headings).
func TestDocsLinksResolve(t *testing.T) {
	docs, _ := filepath.Glob("docs/*.md")
	docs = append(docs, "README.md", "CONTRIBUTING.md", "CHANGELOG.md")
	anchors := map[string]map[string]bool{}
	read := func(f string) []string {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(string(data), "\n")
	}
	for _, f := range docs {
		anchors[filepath.Clean(f)] = headingAnchors(read(f))
	}
	if len(docs) < 8 {
		t.Fatalf("found %v: want the README, CONTRIBUTING, CHANGELOG and docs/", docs)
	}
	links := 0
	for _, f := range docs {
		fence := false
		for n, line := range read(f) {
			if strings.HasPrefix(line, "```") {
				fence = !fence
			}
			if fence {
				continue
			}
			for _, m := range markdownLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if regexp.MustCompile(`^[a-z]+:`).MatchString(target) {
					continue
				}
				links++
				path, anchor, _ := strings.Cut(target, "#")
				file := filepath.Clean(f)
				if path != "" {
					file = filepath.Clean(filepath.Join(filepath.Dir(f), path))
					if _, err := os.Stat(file); err != nil {
						t.Errorf("%s:%d: %s: no such file", f, n+1, target)
						continue
					}
				}
				if anchor != "" {
					if a, ok := anchors[file]; !ok || !a[anchor] {
						t.Errorf("%s:%d: %s: no heading %q in %s", f, n+1, target, anchor, file)
					}
				}
			}
		}
	}
	if links < 30 {
		t.Errorf("read %d relative links: the documents are not read", links)
	}
}

var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// headingAnchors are the anchors GitHub gives a document's headings:
// lower case, punctuation but hyphens dropped, spaces as hyphens.
func headingAnchors(lines []string) map[string]bool {
	out := map[string]bool{}
	fence := false
	for _, l := range lines {
		if strings.HasPrefix(l, "```") {
			fence = !fence
		}
		if m := heading.FindStringSubmatch(l); m != nil && !fence {
			a := strings.ToLower(strings.TrimSpace(m[1]))
			a = regexp.MustCompile(`[^\p{L}\p{N}_\- ]`).ReplaceAllString(a, "")
			out[strings.ReplaceAll(a, " ", "-")] = true
		}
	}
	return out
}

var heading = regexp.MustCompile(`^#{1,6} (.*)$`)
