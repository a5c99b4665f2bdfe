package journal

import (
	"fmt"
	"strconv"
	"strings"
)

// The journal's object layout. The log itself follows C2SP tlog-tiles, so
// that tools nobody here wrote can read it:
//
//	checkpoint                    the latest signed checkpoint (every earlier version kept)
//	tile/<L>/<N>[.p/<W>]          hash tiles of 256 hashes, level L
//	tile/entries/<N>[.p/<W>]      entry bundles of 256 entries, each a big-endian uint16 length and the entry
//
// <N> is written in groups of three digits, all but the last prefixed "x"
// (1234067 is x001/x234/067). The sequencer's own objects sit beside it:
//
//	appendonly/sequence/<start>   a sequence claim: the entries appended from index <start> on
//	appendonly/batch/<time>-<start>-<nonce>  a batch sidecar: short hashes of the event ids and keys of a claim's entries (batch.go)
//	appendonly/blob/<sha-256>     an item image too large for an entry, by the hex SHA-256 of its canonical encoding
const (
	CheckpointPath = "checkpoint"
	// MonitorCheckpointPath holds, one version each, the checkpoints the
	// journal's monitor verified: it goes on from the newest.
	MonitorCheckpointPath = "appendonly/monitor/checkpoint"
	// TileHeight is log2 of the tile width: 256 hashes or entries a tile.
	TileHeight = 8
	// TileWidth is the number of hashes in a hash tile and of entries in a
	// bundle.
	TileWidth = 1 << TileHeight
	// MaxEntrySize is the longest entry a bundle can hold: its length is a
	// uint16.
	MaxEntrySize = 1<<16 - 1

	sequencePrefix = "appendonly/sequence/"
	blobPrefix     = "appendonly/blob/"
)

// encodeIndex writes n in groups of three digits, all but the last
// prefixed "x".
func encodeIndex(n int64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	return s
}

// TilePath is the path of hash tile n at level, w hashes wide (TileWidth for
// a full tile).
func TilePath(level int, n int64, w int) string {
	return "tile/" + strconv.Itoa(level) + "/" + encodeIndex(n) + partial(w)
}

// EntriesPath is the path of entry bundle n holding w entries.
func EntriesPath(n int64, w int) string {
	return "tile/entries/" + encodeIndex(n) + partial(w)
}

func partial(w int) string {
	if w == TileWidth {
		return ""
	}
	return ".p/" + strconv.Itoa(w)
}

// ParseIndex parses an index written by encodeIndex, strictly: every group
// three digits, all but the last prefixed "x".
func ParseIndex(s string) (int64, error) {
	groups := strings.Split(s, "/")
	var n int64
	for i, g := range groups {
		if i < len(groups)-1 {
			if !strings.HasPrefix(g, "x") {
				return 0, fmt.Errorf("journal: index %q: group %q has no x prefix", s, g)
			}
			g = g[1:]
		}
		if len(g) != 3 || strings.Trim(g, "0123456789") != "" {
			return 0, fmt.Errorf("journal: index %q: group %q is not three digits", s, g)
		}
		d, _ := strconv.Atoi(g)
		if n > (1<<62)/1000 {
			return 0, fmt.Errorf("journal: index %q is too large", s)
		}
		n = n*1000 + int64(d)
	}
	if len(groups) > 1 && groups[0] == "x000" {
		return 0, fmt.Errorf("journal: index %q has a leading zero group", s)
	}
	return n, nil
}

func sequencePath(start int64) string { return sequencePrefix + strconv.FormatInt(start, 10) }

func blobPath(sum [32]byte) string { return blobPrefix + fmt.Sprintf("%x", sum) }
