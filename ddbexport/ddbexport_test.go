package ddbexport

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestReadAnExport reads an export laid out and written as DynamoDB
// writes one (the documentation's example, every type).
func TestReadAnExport(t *testing.T) {
	e, err := Open(os.DirFS("testdata/export"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Summary.TableArn != "arn:aws:dynamodb:us-east-1:111122223333:table/ProductCatalog" || e.Summary.ItemCount != 3 ||
		!e.Summary.ExportTime.Equal(time.Date(2026, 11, 4, 7, 28, 34, 28e6, time.UTC)) {
		t.Errorf("summary %+v", e.Summary)
	}
	var items []map[string]types.AttributeValue
	if err := e.Items(func(it map[string]types.AttributeValue) error { items = append(items, it); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 {
		t.Fatalf("%d items, want 3", len(items))
	}
	want := map[string]types.AttributeValue{
		"Id":           &types.AttributeValueMemberN{Value: "201"},
		"Color":        &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "Red"}, &types.AttributeValueMemberS{Value: "Black"}}},
		"Pictures":     &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"FrontView": &types.AttributeValueMemberS{Value: "http://example.com/products/201_front.jpg"}}},
		"Thumbnail":    &types.AttributeValueMemberB{Value: []byte("hello")},
		"Sizes":        &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
		"Codes":        &types.AttributeValueMemberBS{Value: [][]byte{{1, 2}}},
		"Discontinued": &types.AttributeValueMemberNULL{Value: true},
	}
	if !reflect.DeepEqual(items[1], want) {
		t.Errorf("got %#v\nwant %#v", items[1], want)
	}
	// Written back and read again, every type survives.
	dir := t.TempDir()
	w, _ := NewWriter(dir, e.Summary.TableArn, e.Summary.ExportTime)
	w.PerFile = 2
	for _, it := range items {
		if err := w.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	var back []map[string]types.AttributeValue
	_ = again.Items(func(it map[string]types.AttributeValue) error { back = append(back, it); return nil })
	if !reflect.DeepEqual(back, items) || len(again.Files) != 2 {
		t.Errorf("written and read back: %d files\n%#v\nwant\n%#v", len(again.Files), back, items)
	}
}

// TestWhatIsWrongWithAnExportIsSaid: a wrong or incomplete export is
// named as such, never read as a table that lost items.
func TestWhatIsWrongWithAnExportIsSaid(t *testing.T) {
	base := fstest.MapFS{}
	_ = filepath.WalkDir("testdata/export", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(path)
			base[strings.TrimPrefix(path, "testdata/export/")] = &fstest.MapFile{Data: data}
		}
		return nil
	})
	summary := string(base["manifest-summary.json"].Data)
	files := string(base["manifest-files.json"].Data)
	for _, tc := range []struct {
		name, want string
		change     func(fstest.MapFS)
	}{
		{"not an export", "no manifest-summary.json", func(m fstest.MapFS) { delete(m, "manifest-summary.json") }},
		{"ION", "DYNAMODB_JSON", func(m fstest.MapFS) {
			m["manifest-summary.json"] = &fstest.MapFile{Data: []byte(strings.Replace(summary, `"DYNAMODB_JSON"`, `"ION"`, 1))}
		}},
		{"incremental", "full export", func(m fstest.MapFS) {
			m["manifest-summary.json"] = &fstest.MapFile{Data: []byte(strings.Replace(summary, "FULL_EXPORT", "INCREMENTAL_EXPORT", 1))}
		}},
		{"a data file missing", "incomplete: data/zyxw987vutsr.json.gz is missing", func(m fstest.MapFS) { delete(m, "data/zyxw987vutsr.json.gz") }},
		{"a manifest that does not add up", "hold 3 items, its summary says 4", func(m fstest.MapFS) {
			m["manifest-summary.json"] = &fstest.MapFile{Data: []byte(strings.Replace(summary, `"itemCount":3`, `"itemCount":4`, 1))}
		}},
		{"a truncated data file", "holds 0 items, its manifest says 1", func(m fstest.MapFS) {
			m["data/zyxw987vutsr.json.gz"] = base["data/emptypartition.json.gz"]
		}},
		{"not gzip", "damaged: data/zyxw987vutsr.json.gz", func(m fstest.MapFS) {
			m["data/zyxw987vutsr.json.gz"] = &fstest.MapFile{Data: []byte(`{"Item":{}}`)}
		}},
		{"a value of two type tags", `item 1: attribute "Title": not a DynamoDB JSON value (an object of one type tag)`, func(m fstest.MapFS) {
			m["data/zyxw987vutsr.json.gz"] = &fstest.MapFile{Data: gz(`{"Item":{"Id":{"N":"1"},"Title":{"S":"a","N":"1"}}}`)}
		}},
		{"an unknown type tag", `item 1: attribute "Id": X: unknown type tag`, func(m fstest.MapFS) {
			m["data/zyxw987vutsr.json.gz"] = &fstest.MapFile{Data: gz(`{"Item":{"Id":{"X":"1"}}}`)}
		}},
		{"a line with no dataFileS3Key", "no dataFileS3Key", func(m fstest.MapFS) {
			m["manifest-files.json"] = &fstest.MapFile{Data: []byte(files + "{\"itemCount\":0}\n")}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := fstest.MapFS{}
			for k, v := range base {
				m[k] = v
			}
			tc.change(m)
			e, err := Open(m)
			if err == nil {
				err = e.Items(func(map[string]types.AttributeValue) error { return nil })
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestDecodeItemNamesTheAttribute(t *testing.T) {
	for in, want := range map[string]string{
		`{"a": {"X": "1"}}`:              `attribute "a": X: unknown type tag`,
		`{"a": "plain"}`:                 `attribute "a": not a DynamoDB JSON value`,
		`{"a": {"N": 1}}`:                `attribute "a": N: json`,
		`{"a": {"L": [{"S": 1}]}}`:       `attribute "a": L: element 0: S: json`,
		`{"a": {"BS": ["not base64!"]}}`: `attribute "a": BS: illegal base64`,
	} {
		if _, err := DecodeItem([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s + "\n"))
	w.Close()
	return b.Bytes()
}
