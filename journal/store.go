package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors a Store returns. Test for them with errors.Is.
var (
	ErrNotExist = errors.New("journal: no such object")
	ErrExist    = errors.New("journal: the object exists")
)

// Version is one version of an object, oldest first in Store.Versions.
type Version struct {
	ID       string
	Modified time.Time
	// DeleteMarker is a version that hides the object from plain reads: S3
	// adds one on a delete without a version id, even under Object Lock.
	DeleteMarker bool
	latest       bool // S3's IsLatest, while a listing is merged
}

// Store is where the journal lives: an S3 bucket with Object Lock in
// deployment (S3Store), a directory for the demo (DirStore), memory in
// tests (MemStore). No method replaces an object that exists.
type Store interface {
	// Get returns the object's latest version, or ErrNotExist.
	Get(ctx context.Context, path string) ([]byte, error)
	// Create writes an object that must not exist yet: ErrExist if it does,
	// and nothing is written.
	Create(ctx context.Context, path string, data []byte) error
	// AddVersion writes a new version of an object; earlier versions stay.
	AddVersion(ctx context.Context, path string, data []byte) error
	// Versions lists the object's versions, oldest first.
	Versions(ctx context.Context, path string) ([]Version, error)
	// Recent lists at most n of the object's newest versions, newest
	// first: one request on S3, however many versions the object has.
	Recent(ctx context.Context, path string, n int) ([]Version, error)
	// GetVersion returns one version of an object.
	GetVersion(ctx context.Context, path, id string) ([]byte, error)
	// List lists the paths of the objects under prefix that sort after
	// after (all of them for ""), in order: one request on S3 per 1,000.
	// An object whose current version is a delete marker is not listed.
	List(ctx context.Context, prefix, after string) ([]string, error)
}

// MemStore is a Store in memory, with counters of the calls made to it.
// The zero value is empty and ready.
type MemStore struct {
	mu      sync.Mutex
	objects map[string][]memVersion
	seq     int
	// Calls counts calls by method name.
	Calls map[string]int
}

type memVersion struct {
	id       string
	data     []byte
	modified time.Time
	marker   bool
}

func (m *MemStore) count(op string) {
	if m.Calls == nil {
		m.Calls = map[string]int{}
	}
	m.Calls[op]++
}

func (m *MemStore) add(path string, data []byte, marker bool) {
	if m.objects == nil {
		m.objects = map[string][]memVersion{}
	}
	m.seq++
	m.objects[path] = append(m.objects[path], memVersion{id: strconv.Itoa(m.seq), data: bytes.Clone(data), modified: time.Now(), marker: marker})
}

// Get implements Store.
func (m *MemStore) Get(_ context.Context, path string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("Get")
	vs := m.objects[path]
	if len(vs) == 0 || vs[len(vs)-1].marker {
		return nil, fmt.Errorf("%s: %w", path, ErrNotExist)
	}
	return bytes.Clone(vs[len(vs)-1].data), nil
}

// Create implements Store.
func (m *MemStore) Create(_ context.Context, path string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("Create")
	if vs := m.objects[path]; len(vs) > 0 && !vs[len(vs)-1].marker {
		return fmt.Errorf("%s: %w", path, ErrExist)
	}
	m.add(path, data, false)
	return nil
}

// AddVersion implements Store.
func (m *MemStore) AddVersion(_ context.Context, path string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("AddVersion")
	m.add(path, data, false)
	return nil
}

// Versions implements Store.
func (m *MemStore) Versions(_ context.Context, path string) ([]Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("Versions")
	var out []Version
	for _, v := range m.objects[path] {
		out = append(out, Version{ID: v.id, Modified: v.modified, DeleteMarker: v.marker})
	}
	return out, nil
}

// Recent implements Store.
func (m *MemStore) Recent(ctx context.Context, path string, n int) ([]Version, error) {
	vs, err := m.Versions(ctx, path)
	return newest(vs, n), err
}

// newest returns at most n of vs, oldest first, newest first.
func newest(vs []Version, n int) []Version {
	slices.Reverse(vs)
	return vs[:min(n, len(vs))]
}

// GetVersion implements Store.
func (m *MemStore) GetVersion(_ context.Context, path, id string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("GetVersion")
	for _, v := range m.objects[path] {
		if v.id == id && !v.marker {
			return bytes.Clone(v.data), nil
		}
	}
	return nil, fmt.Errorf("%s version %s: %w", path, id, ErrNotExist)
}

// List implements Store.
func (m *MemStore) List(_ context.Context, prefix, after string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("List")
	var out []string
	for p, vs := range m.objects {
		if strings.HasPrefix(p, prefix) && p > after && len(vs) > 0 && !vs[len(vs)-1].marker {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Paths lists every object's path, sorted.
func (m *MemStore) Paths() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for p := range m.objects {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Overwrite replaces every version of an object, as nobody can in an
// Object Lock bucket: for tests of what verification finds.
func (m *MemStore) Overwrite(path string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, path)
	m.add(path, data, false)
}

// DeleteMarker adds a delete marker, as S3 does on a delete without a
// version id, even under Object Lock.
func (m *MemStore) DeleteMarker(path string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.add(path, nil, true)
}

// DirStore is a Store in a directory, laid out as the bucket is: each
// object's latest version at its path (so the directory can be served as a
// tlog-tiles log), earlier versions under .versions/<path>/<n>. For the demo
// and for reading a journal copied out of its bucket; it has no lock.
type DirStore struct {
	Dir string
	mu  sync.Mutex
}

func (d *DirStore) file(path string) (string, error) {
	clean := filepath.ToSlash(filepath.Clean(path))
	if clean != path || strings.HasPrefix(path, "/") || strings.HasPrefix(path, "..") || strings.HasPrefix(path, ".versions") {
		return "", fmt.Errorf("journal: %q is not a clean relative path", path)
	}
	return filepath.Join(d.Dir, filepath.FromSlash(path)), nil
}

func (d *DirStore) old(path string) string {
	return filepath.Join(d.Dir, ".versions", filepath.FromSlash(path))
}

// earlier lists the numbers of an object's earlier versions, sorted.
func (d *DirStore) earlier(path string) ([]int, error) {
	ents, err := os.ReadDir(d.old(path))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}

// Get implements Store.
func (d *DirStore) Get(_ context.Context, path string) ([]byte, error) {
	f, err := d.file(path)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(f)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrNotExist)
	}
	return data, err
}

func (d *DirStore) write(path string, data []byte, mustNotExist bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := d.file(path)
	if err != nil {
		return err
	}
	if cur, err := os.ReadFile(f); err == nil {
		if mustNotExist {
			return fmt.Errorf("%s: %w", path, ErrExist)
		}
		vs, err := d.earlier(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(d.old(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d.old(path), strconv.Itoa(len(vs)+1)), cur, 0o444); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		return err
	}
	tmp := f + ".tmp"
	if err := os.WriteFile(tmp, data, 0o444); err != nil {
		return err
	}
	return os.Rename(tmp, f)
}

// Create implements Store.
func (d *DirStore) Create(_ context.Context, path string, data []byte) error {
	return d.write(path, data, true)
}

// AddVersion implements Store.
func (d *DirStore) AddVersion(_ context.Context, path string, data []byte) error {
	return d.write(path, data, false)
}

// Versions implements Store: the earlier versions "1", "2", ..., then the
// latest, "latest".
func (d *DirStore) Versions(_ context.Context, path string) ([]Version, error) {
	f, err := d.file(path)
	if err != nil {
		return nil, err
	}
	vs, err := d.earlier(path)
	if err != nil {
		return nil, err
	}
	var out []Version
	for _, n := range vs {
		st, err := os.Stat(filepath.Join(d.old(path), strconv.Itoa(n)))
		if err != nil {
			return nil, err
		}
		out = append(out, Version{ID: strconv.Itoa(n), Modified: st.ModTime()})
	}
	if st, err := os.Stat(f); err == nil {
		out = append(out, Version{ID: "latest", Modified: st.ModTime()})
	}
	return out, nil
}

// Recent implements Store.
func (d *DirStore) Recent(ctx context.Context, path string, n int) ([]Version, error) {
	vs, err := d.Versions(ctx, path)
	return newest(vs, n), err
}

// List implements Store.
func (d *DirStore) List(_ context.Context, prefix, after string) ([]string, error) {
	var out []string
	dir := filepath.Join(d.Dir, filepath.FromSlash(prefix[:strings.LastIndex(prefix, "/")+1]))
	err := filepath.WalkDir(dir, func(f string, e os.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) {
			return filepath.SkipAll
		}
		if err != nil || e.IsDir() || strings.HasSuffix(f, ".tmp") {
			return err
		}
		rel, err := filepath.Rel(d.Dir, f)
		if p := filepath.ToSlash(rel); err == nil && strings.HasPrefix(p, prefix) && p > after {
			out = append(out, p)
		}
		return err
	})
	sort.Strings(out)
	return out, err
}

// GetVersion implements Store.
func (d *DirStore) GetVersion(ctx context.Context, path, id string) ([]byte, error) {
	if id == "latest" {
		return d.Get(ctx, path)
	}
	if _, err := strconv.Atoi(id); err != nil {
		return nil, fmt.Errorf("%s version %q: %w", path, id, ErrNotExist)
	}
	if _, err := d.file(path); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(d.old(path), id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s version %s: %w", path, id, ErrNotExist)
	}
	return data, err
}
