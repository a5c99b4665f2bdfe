// Package ddbexport reads a DynamoDB table export (ExportTableToPointInTime,
// full, in DynamoDB JSON): a consistent copy of the table at the export's
// time, made without consuming the table's read capacity, for a full
// verification to compare the journal with.
//
// An export is a directory (in S3: export-prefix/AWSDynamoDB/ExportId/)
// holding manifest-summary.json, manifest-files.json and data/*.json.gz,
// each data file a gzip of lines {"Item": {...}} in DynamoDB JSON. Open
// reads it through an fs.FS rooted at that directory: os.DirFS for a copy
// on disk (aws s3 sync), or any file system that reads S3.
package ddbexport

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Summary is manifest-summary.json: what was exported, and when.
type Summary struct {
	ExportArn  string    `json:"exportArn"`
	TableArn   string    `json:"tableArn"`
	ExportTime time.Time `json:"exportTime"`
	ItemCount  int64     `json:"itemCount"`
	// OutputFormat is DYNAMODB_JSON or ION; ExportType FULL_EXPORT or
	// INCREMENTAL_EXPORT (absent in exports made before incremental ones
	// existed: full).
	OutputFormat string `json:"outputFormat"`
	ExportType   string `json:"exportType"`
}

// DataFile is one line of manifest-files.json.
type DataFile struct {
	ItemCount int64  `json:"itemCount"`
	Key       string `json:"dataFileS3Key"`
}

// Export is an opened export.
type Export struct {
	fsys    fs.FS
	Summary Summary
	Files   []DataFile
}

// Open reads an export's manifests and checks that it is a full export in
// DynamoDB JSON whose data files are all there and add up to its item
// count. Its errors say what is wrong with the export: none is tampering.
func Open(fsys fs.FS) (*Export, error) {
	e := &Export{fsys: fsys}
	data, err := fs.ReadFile(fsys, "manifest-summary.json")
	if err != nil {
		return nil, fmt.Errorf("not a DynamoDB export: no manifest-summary.json (give the directory that holds it, AWSDynamoDB/<export id>): %w", err)
	}
	if err := json.Unmarshal(data, &e.Summary); err != nil {
		return nil, fmt.Errorf("manifest-summary.json: %v", err)
	}
	switch s := e.Summary; {
	case s.TableArn == "" || s.ExportTime.IsZero():
		return nil, errors.New("manifest-summary.json: no tableArn or exportTime: not a DynamoDB export's summary")
	case s.OutputFormat != "DYNAMODB_JSON":
		return nil, fmt.Errorf("the export's format is %s: export in DYNAMODB_JSON (--export-format DYNAMODB_JSON)", s.OutputFormat)
	case s.ExportType != "" && s.ExportType != "FULL_EXPORT":
		return nil, fmt.Errorf("the export is an %s: a full verification needs a full export (--export-type FULL_EXPORT)", s.ExportType)
	}
	f, err := fsys.Open("manifest-files.json")
	if err != nil {
		return nil, fmt.Errorf("the export has no manifest-files.json: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	var total int64
	for {
		var df DataFile
		if err := dec.Decode(&df); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("manifest-files.json: %v", err)
		}
		if df.Key == "" {
			return nil, errors.New("manifest-files.json: a line with no dataFileS3Key")
		}
		if _, err := fs.Stat(fsys, e.path(df)); err != nil {
			return nil, fmt.Errorf("the export is incomplete: %s is missing (%v)", e.path(df), err)
		}
		total += df.ItemCount
		e.Files = append(e.Files, df)
	}
	if total != e.Summary.ItemCount {
		return nil, fmt.Errorf("the export is incomplete: its data files hold %d items, its summary says %d", total, e.Summary.ItemCount)
	}
	return e, nil
}

// path is a data file's place in the export's directory: data/NAME.
func (e *Export) path(df DataFile) string { return "data/" + path.Base(df.Key) }

// Items gives each item of the export to yield, file by file, and checks
// that each file holds the items its manifest counts.
func (e *Export) Items(yield func(item map[string]types.AttributeValue) error) error {
	for _, df := range e.Files {
		n, err := e.file(df, yield)
		if err != nil {
			return err
		}
		if n != df.ItemCount {
			return fmt.Errorf("the export is damaged: %s holds %d items, its manifest says %d", e.path(df), n, df.ItemCount)
		}
	}
	return nil
}

func (e *Export) file(df DataFile, yield func(map[string]types.AttributeValue) error) (int64, error) {
	f, err := e.fsys.Open(e.path(df))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return 0, fmt.Errorf("the export is damaged: %s: %v", e.path(df), err)
	}
	sc := bufio.NewScanner(z)
	sc.Buffer(make([]byte, 64<<10), 2<<20) // an item is at most 400 KB; base64 and JSON at most double it
	var n int64
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		n++
		item, err := decodeLine(sc.Bytes())
		if err != nil {
			return n, fmt.Errorf("the export is damaged: %s, item %d: %v", e.path(df), n, err)
		}
		if err := yield(item); err != nil {
			return n, err
		}
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("the export is damaged: %s: %v", e.path(df), err)
	}
	return n, nil
}

// value is an attribute value in DynamoDB JSON, decoded in one pass: each
// field present is a type tag.
type value struct {
	S    *string
	N    *string
	B    *[]byte
	BOOL *bool
	NULL *bool
	M    *map[string]*value
	L    *[]*value
	SS   *[]string
	NS   *[]string
	BS   *[][]byte
}

// decodeLine decodes a data file's line, {"Item": {...}}, in one pass;
// on any error, DecodeItem says precisely what is wrong.
func decodeLine(line []byte) (map[string]types.AttributeValue, error) {
	var l struct {
		Item map[string]*value
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err == nil && l.Item != nil {
		if item, ok := convertMap(l.Item); ok {
			return item, nil
		}
	}
	var raw struct{ Item json.RawMessage }
	if err := json.Unmarshal(line, &raw); err != nil || raw.Item == nil {
		return nil, errors.New(`not {"Item": ...}`)
	}
	if _, err := DecodeItem(raw.Item); err != nil {
		return nil, err
	}
	return nil, errors.New(`not {"Item": ...} in DynamoDB JSON`)
}

func convertMap(m map[string]*value) (map[string]types.AttributeValue, bool) {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		av, ok := convert(v)
		if !ok {
			return nil, false
		}
		out[k] = av
	}
	return out, true
}

// convert converts a value of exactly one type tag.
func convert(v *value) (types.AttributeValue, bool) {
	if v == nil {
		return nil, false
	}
	var av types.AttributeValue
	tags := 0
	set := func(x types.AttributeValue) { av = x; tags++ }
	if v.S != nil {
		set(&types.AttributeValueMemberS{Value: *v.S})
	}
	if v.N != nil {
		set(&types.AttributeValueMemberN{Value: *v.N})
	}
	if v.B != nil {
		set(&types.AttributeValueMemberB{Value: *v.B})
	}
	if v.BOOL != nil {
		set(&types.AttributeValueMemberBOOL{Value: *v.BOOL})
	}
	if v.NULL != nil {
		set(&types.AttributeValueMemberNULL{Value: *v.NULL})
	}
	if v.SS != nil {
		set(&types.AttributeValueMemberSS{Value: *v.SS})
	}
	if v.NS != nil {
		set(&types.AttributeValueMemberNS{Value: *v.NS})
	}
	if v.BS != nil {
		set(&types.AttributeValueMemberBS{Value: *v.BS})
	}
	if v.M != nil {
		m, ok := convertMap(*v.M)
		if !ok {
			return nil, false
		}
		set(&types.AttributeValueMemberM{Value: m})
	}
	if v.L != nil {
		l := make([]types.AttributeValue, len(*v.L))
		for i, x := range *v.L {
			var ok bool
			if l[i], ok = convert(x); !ok {
				return nil, false
			}
		}
		set(&types.AttributeValueMemberL{Value: l})
	}
	return av, tags == 1
}

// DecodeItem decodes an item in DynamoDB JSON: each attribute an object of
// one type tag (S, N, B, BOOL, NULL, M, L, SS, NS, BS).
func DecodeItem(data []byte) (map[string]types.AttributeValue, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not DynamoDB JSON: %v", err)
	}
	item := make(map[string]types.AttributeValue, len(raw))
	for name, v := range raw {
		av, err := decodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %v", name, err)
		}
		item[name] = av
	}
	return item, nil
}

func decodeValue(data []byte) (types.AttributeValue, error) {
	var tagged map[string]json.RawMessage
	if err := json.Unmarshal(data, &tagged); err != nil || len(tagged) != 1 {
		return nil, fmt.Errorf("not a DynamoDB JSON value (an object of one type tag): %s", abbreviate(data))
	}
	for tag, v := range tagged {
		av, err := decodeTagged(tag, v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", tag, err)
		}
		return av, nil
	}
	panic("unreachable")
}

func decodeTagged(tag string, v json.RawMessage) (types.AttributeValue, error) {
	var err error
	{
		switch tag {
		case "S":
			var s string
			err = json.Unmarshal(v, &s)
			return &types.AttributeValueMemberS{Value: s}, err
		case "N":
			var s string
			err = json.Unmarshal(v, &s)
			return &types.AttributeValueMemberN{Value: s}, err
		case "B":
			var b []byte // base64, as encoding/json reads []byte
			err = json.Unmarshal(v, &b)
			return &types.AttributeValueMemberB{Value: b}, err
		case "BOOL":
			var b bool
			err = json.Unmarshal(v, &b)
			return &types.AttributeValueMemberBOOL{Value: b}, err
		case "NULL":
			var b bool
			err = json.Unmarshal(v, &b)
			return &types.AttributeValueMemberNULL{Value: b}, err
		case "SS", "NS":
			var l []string
			if err = json.Unmarshal(v, &l); err != nil {
				return nil, err
			}
			if tag == "SS" {
				return &types.AttributeValueMemberSS{Value: l}, nil
			}
			return &types.AttributeValueMemberNS{Value: l}, nil
		case "BS":
			var l []string
			if err = json.Unmarshal(v, &l); err != nil {
				return nil, err
			}
			bs := make([][]byte, len(l))
			for i, s := range l {
				if bs[i], err = base64.StdEncoding.DecodeString(s); err != nil {
					return nil, err
				}
			}
			return &types.AttributeValueMemberBS{Value: bs}, nil
		case "M":
			m, err := DecodeItem(v)
			return &types.AttributeValueMemberM{Value: m}, err
		case "L":
			var raw []json.RawMessage
			if err = json.Unmarshal(v, &raw); err != nil {
				return nil, err
			}
			l := make([]types.AttributeValue, len(raw))
			for i, x := range raw {
				if l[i], err = decodeValue(x); err != nil {
					return nil, fmt.Errorf("element %d: %v", i, err)
				}
			}
			return &types.AttributeValueMemberL{Value: l}, nil
		default:
			return nil, fmt.Errorf("unknown type tag: want S, N, B, BOOL, NULL, M, L, SS, NS or BS")
		}
	}
}

func abbreviate(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return s
}

// EncodeItem encodes an item in DynamoDB JSON, as an export writes it.
func EncodeItem(item map[string]types.AttributeValue) ([]byte, error) {
	v, err := plain(&types.AttributeValueMemberM{Value: item})
	if err != nil {
		return nil, err
	}
	return json.Marshal(v.(map[string]any)["M"])
}

func plain(v types.AttributeValue) (any, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}, nil
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}, nil
	case *types.AttributeValueMemberB:
		return map[string]any{"B": v.Value}, nil
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}, nil
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}, nil
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}, nil
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}, nil
	case *types.AttributeValueMemberBS:
		return map[string]any{"BS": v.Value}, nil
	case *types.AttributeValueMemberM:
		m := make(map[string]any, len(v.Value))
		for k, x := range v.Value {
			p, err := plain(x)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
			m[k] = p
		}
		return map[string]any{"M": m}, nil
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, x := range v.Value {
			p, err := plain(x)
			if err != nil {
				return nil, err
			}
			l[i] = p
		}
		return map[string]any{"L": l}, nil
	}
	return nil, fmt.Errorf("an attribute value of type %T", v)
}

// Writer writes an export into a directory, laid out as DynamoDB lays one
// out under AWSDynamoDB/ExportId/: for tests and demonstrations, and to
// turn a table read another way into an export.
type Writer struct {
	dir   string
	sum   Summary
	files []DataFile
	f     *os.File
	z     *gzip.Writer
	w     *bufio.Writer
	// PerFile is the number of items a data file holds (default 100,000).
	PerFile int64
}

// NewWriter starts an export of the table tableArn at exportTime in dir.
func NewWriter(dir, tableArn string, exportTime time.Time) (*Writer, error) {
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, err
	}
	return &Writer{dir: dir, sum: Summary{ExportArn: tableArn + "/export/" + exportTime.UTC().Format("20060102150405"), TableArn: tableArn,
		ExportTime: exportTime.UTC(), OutputFormat: "DYNAMODB_JSON", ExportType: "FULL_EXPORT"}}, nil
}

// Add writes one item.
func (w *Writer) Add(item map[string]types.AttributeValue) error {
	per := w.PerFile
	if per <= 0 {
		per = 100000
	}
	if w.f != nil && w.files[len(w.files)-1].ItemCount >= per {
		if err := w.closeFile(); err != nil {
			return err
		}
	}
	if w.f == nil {
		name := fmt.Sprintf("data/%05d.json.gz", len(w.files))
		f, err := os.Create(filepath.Join(w.dir, name))
		if err != nil {
			return err
		}
		w.f, w.z = f, gzip.NewWriter(f)
		w.w = bufio.NewWriter(w.z)
		w.files = append(w.files, DataFile{Key: "AWSDynamoDB/export/" + name})
	}
	data, err := EncodeItem(item)
	if err != nil {
		return err
	}
	fmt.Fprintf(w.w, "{\"Item\":%s}\n", data)
	w.files[len(w.files)-1].ItemCount++
	w.sum.ItemCount++
	return nil
}

func (w *Writer) closeFile() error {
	err := errors.Join(w.w.Flush(), w.z.Close(), w.f.Close())
	w.f = nil
	return err
}

// Close writes the manifests.
func (w *Writer) Close() error {
	if w.f != nil {
		if err := w.closeFile(); err != nil {
			return err
		}
	}
	var files bytes.Buffer
	for _, df := range w.files {
		line, _ := json.Marshal(df)
		files.Write(append(line, '\n'))
	}
	summary, _ := json.Marshal(w.sum)
	return errors.Join(os.WriteFile(filepath.Join(w.dir, "manifest-files.json"), files.Bytes(), 0o644),
		os.WriteFile(filepath.Join(w.dir, "manifest-summary.json"), summary, 0o644))
}
