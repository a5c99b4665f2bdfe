package ledger

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestNumber(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"0.000", "0"}, {"+0E5", "0"},
		{"1", "1"}, {"001", "1"}, {"+1", "1"}, {"-1", "-1"},
		{"1.50", "15E-1"}, {"1.5", "15E-1"}, {"15E-1", "15E-1"}, {"0.15E+1", "15E-1"}, {"0.15e1", "15E-1"},
		{"100", "1E2"}, {"1E+2", "1E2"}, {"1e2", "1E2"}, {"100.000", "1E2"}, {"0.01E4", "1E2"},
		{"123.456", "123456E-3"}, {"-0.0012300", "-123E-5"},
		{"99999999999999999999999999999999999999", "99999999999999999999999999999999999999"}, // 38 digits
		{"1E+125", "1E125"}, {"1E-130", "1E-130"},
	} {
		got, err := Number(c.in)
		if err != nil || got != c.want {
			t.Errorf("Number(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", " ", "abc", "1.2.3", "1E", "E5", "1E+x", "--1", "0x10", "1_000", "."} {
		if got, err := Number(bad); err == nil {
			t.Errorf("Number(%q) = %q, want an error", bad, got)
		}
	}
}

func sv(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func nv(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }

// Every type encodes, each to something distinct.
func TestEncodeEveryType(t *testing.T) {
	values := map[string]types.AttributeValue{
		"S":      sv("1"),
		"N":      nv("1"),
		"B":      &types.AttributeValueMemberB{Value: []byte("1")},
		"BOOL":   &types.AttributeValueMemberBOOL{Value: true},
		"BOOLf":  &types.AttributeValueMemberBOOL{Value: false},
		"NULL":   &types.AttributeValueMemberNULL{Value: true},
		"L":      &types.AttributeValueMemberL{Value: []types.AttributeValue{sv("1")}},
		"M":      &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"1": sv("1")}},
		"SS":     &types.AttributeValueMemberSS{Value: []string{"1"}},
		"NS":     &types.AttributeValueMemberNS{Value: []string{"1"}},
		"BS":     &types.AttributeValueMemberBS{Value: [][]byte{[]byte("1")}},
		"Sempty": sv(""),
	}
	seen := map[string]string{}
	for name, v := range values {
		enc, err := Encode(map[string]types.AttributeValue{"a": v})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if other, ok := seen[string(enc)]; ok {
			t.Errorf("%s and %s encode alike", name, other)
		}
		seen[string(enc)] = name
	}
	if _, err := Encode(map[string]types.AttributeValue{"a": nv("one")}); err == nil {
		t.Error("a number that is not one encoded without an error")
	}
	// Attribute names and values cannot run into each other.
	a, _ := Encode(map[string]types.AttributeValue{"ab": sv("c")})
	b, _ := Encode(map[string]types.AttributeValue{"a": sv("bc")})
	if bytes.Equal(a, b) {
		t.Error(`{"ab": "c"} and {"a": "bc"} encode alike`)
	}
}

// shuffled returns v with every map rebuilt and every set reordered (lists
// keep their order: it is part of their value).
func shuffled(r *rand.Rand, v types.AttributeValue) types.AttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberM:
		m := map[string]types.AttributeValue{}
		keys := make([]string, 0, len(v.Value))
		for k := range v.Value {
			keys = append(keys, k)
		}
		r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		for _, k := range keys {
			m[k] = shuffled(r, v.Value[k])
		}
		return &types.AttributeValueMemberM{Value: m}
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		for i, x := range v.Value {
			l[i] = shuffled(r, x)
		}
		return &types.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberSS:
		s := append([]string(nil), v.Value...)
		r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		return &types.AttributeValueMemberSS{Value: s}
	case *types.AttributeValueMemberNS:
		s := append([]string(nil), v.Value...)
		r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		return &types.AttributeValueMemberNS{Value: s}
	case *types.AttributeValueMemberBS:
		s := append([][]byte(nil), v.Value...)
		r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		return &types.AttributeValueMemberBS{Value: s}
	}
	return v
}

// FuzzEncodeIsStableUnderReordering builds an item from the fuzzer's strings
// and checks its encoding survives reordering maps and sets, and writing its
// numbers another way.
func FuzzEncodeIsStableUnderReordering(f *testing.F) {
	f.Add("a", "b", "c", int64(150), uint64(1))
	f.Add("", "x", "x", int64(-7), uint64(42))
	f.Fuzz(func(t *testing.T, k1, k2, k3 string, num int64, seed uint64) {
		n := nv(itoa(num))
		item := map[string]types.AttributeValue{
			k1: &types.AttributeValueMemberSS{Value: uniq(k1, k2, k3)},
			k2: &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{k3: n, k1: sv(k2), k2: &types.AttributeValueMemberNS{Value: []string{"1", "2.0", itoa(num)}}}},
			k3: &types.AttributeValueMemberL{Value: []types.AttributeValue{sv(k3), n, &types.AttributeValueMemberBS{Value: [][]byte{[]byte(k1), []byte(k2 + "!")}}}},
		}
		// The NS holds 1, 2.0 and num: with num 1 or 2 it would not be a set.
		if num == 1 || num == 2 {
			return
		}
		want, err := Encode(item)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		for i := 0; i < 5; i++ {
			got, err := Encode(shuffled(r, &types.AttributeValueMemberM{Value: item}).(*types.AttributeValueMemberM).Value)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encoding changed after reordering")
			}
		}
		// The same number written with an exponent and trailing zeros.
		alt := map[string]types.AttributeValue{}
		for k, v := range item {
			alt[k] = v
		}
		if k1 != k2 && k2 != k3 && k1 != k3 {
			m := item[k2].(*types.AttributeValueMemberM).Value
			mm := map[string]types.AttributeValue{}
			for k, v := range m {
				mm[k] = v
			}
			mm[k3] = nv(itoa(num) + ".000E0")
			alt[k2] = &types.AttributeValueMemberM{Value: mm}
			got, err := Encode(alt)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encoding changed with %s written as %s", itoa(num), itoa(num)+".000E0")
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func uniq(ss ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
