package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CanonicalVersion names the canonical encoding Encode writes. Each chain
// item records it (AttrEncoding), so that a verifier years later knows which
// encoding to recompute.
const CanonicalVersion = "appendonly-canonical-v1"

// errInvalidUTF8 is what Encode says of a string that is not UTF-8: the
// SDK would store it with U+FFFD in place of the bad bytes, so its encoding
// would not be that of what DynamoDB holds.
var errInvalidUTF8 = errors.New("a string that is not valid UTF-8: DynamoDB would store it changed")

// Encode returns the canonical encoding of an item: the same bytes for the
// same item however its attributes, map keys and set elements are ordered,
// and whatever form its numbers were written in, so that what is hashed
// before writing equals what is recomputed from what DynamoDB returns.
//
// Version 1: every value is a one-byte type tag followed by its content; a
// length is a big-endian uint32.
//
//	M, item  'M' count, then per attribute, by name in byte order: len name, value
//	L        'L' count, values in order
//	S        'S' len bytes (UTF-8)
//	N        'N' len normalized number (Number)
//	B        'B' len bytes
//	BOOL     'T' or 'F'
//	NULL     '0'
//	SS/NS/BS 's'/'n'/'b' count, elements encoded as S/N/B, sorted by their encoding
func Encode(item map[string]types.AttributeValue) ([]byte, error) {
	var b bytes.Buffer
	if err := encodeMap(&b, item); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func putLen(b *bytes.Buffer, n int) {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(n))
	b.Write(l[:])
}

func putBytes(b *bytes.Buffer, tag byte, p []byte) {
	b.WriteByte(tag)
	putLen(b, len(p))
	b.Write(p)
}

func encodeMap(b *bytes.Buffer, m map[string]types.AttributeValue) error {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	b.WriteByte('M')
	putLen(b, len(names))
	for _, k := range names {
		if !utf8.ValidString(k) {
			return fmt.Errorf("attribute name %q: %w", k, errInvalidUTF8)
		}
		putLen(b, len(k))
		b.WriteString(k)
		if err := encodeValue(b, m[k]); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

func encodeValue(b *bytes.Buffer, v types.AttributeValue) error {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		if !utf8.ValidString(v.Value) {
			return errInvalidUTF8
		}
		putBytes(b, 'S', []byte(v.Value))
	case *types.AttributeValueMemberN:
		n, err := Number(v.Value)
		if err != nil {
			return err
		}
		putBytes(b, 'N', []byte(n))
	case *types.AttributeValueMemberB:
		putBytes(b, 'B', v.Value)
	case *types.AttributeValueMemberBOOL:
		if v.Value {
			b.WriteByte('T')
		} else {
			b.WriteByte('F')
		}
	case *types.AttributeValueMemberNULL:
		b.WriteByte('0')
	case *types.AttributeValueMemberM:
		return encodeMap(b, v.Value)
	case *types.AttributeValueMemberL:
		b.WriteByte('L')
		putLen(b, len(v.Value))
		for i, x := range v.Value {
			if err := encodeValue(b, x); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case *types.AttributeValueMemberSS:
		return encodeSet(b, 's', len(v.Value), func(i int, e *bytes.Buffer) error {
			if !utf8.ValidString(v.Value[i]) {
				return errInvalidUTF8
			}
			putBytes(e, 'S', []byte(v.Value[i]))
			return nil
		})
	case *types.AttributeValueMemberNS:
		return encodeSet(b, 'n', len(v.Value), func(i int, e *bytes.Buffer) error {
			n, err := Number(v.Value[i])
			if err != nil {
				return err
			}
			putBytes(e, 'N', []byte(n))
			return nil
		})
	case *types.AttributeValueMemberBS:
		return encodeSet(b, 'b', len(v.Value), func(i int, e *bytes.Buffer) error {
			putBytes(e, 'B', v.Value[i])
			return nil
		})
	case nil:
		return fmt.Errorf("nil attribute value")
	default:
		return fmt.Errorf("attribute value of type %T has no canonical encoding", v)
	}
	return nil
}

// encodeSet writes a set's elements sorted by their own encoding: sets come
// back from DynamoDB in no particular order.
func encodeSet(b *bytes.Buffer, tag byte, n int, element func(int, *bytes.Buffer) error) error {
	elems := make([][]byte, n)
	for i := range elems {
		var e bytes.Buffer
		if err := element(i, &e); err != nil {
			return err
		}
		elems[i] = e.Bytes()
	}
	sort.Slice(elems, func(i, j int) bool { return bytes.Compare(elems[i], elems[j]) < 0 })
	b.WriteByte(tag)
	putLen(b, n)
	for _, e := range elems {
		b.Write(e)
	}
	return nil
}

// Number returns the normalized form of a DynamoDB number: its exact
// decimal value as an optional minus sign, digits with no leading or
// trailing zeros, and, when the value is not an integer or has trailing
// zeros, an exponent: "1.50", "15E-1" and "0.15E+1" all give "15E-1";
// "100" and "1E+2" give "1E2"; "-0" gives "0". DynamoDB itself trims leading
// and trailing zeros; normalizing by value makes the encoding independent of
// how it prints a number. DynamoDB numbers have up to 38 significant digits;
// Number accepts any decimal number, and refuses what is not one.
func Number(s string) (string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", fmt.Errorf("number %q: empty", s)
	}
	neg := false
	switch t[0] {
	case '-':
		neg, t = true, t[1:]
	case '+':
		t = t[1:]
	}
	mant, expPart, hasExp := strings.Cut(strings.ToUpper(t), "E")
	exp := new(big.Int)
	if hasExp {
		if _, ok := exp.SetString(strings.TrimPrefix(expPart, "+"), 10); !ok || expPart == "" {
			return "", fmt.Errorf("number %q: bad exponent", s)
		}
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" || strings.Count(mant, ".") > 1 {
		return "", fmt.Errorf("number %q: not a decimal number", s)
	}
	exp.Sub(exp, big.NewInt(int64(len(frac))))
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0", nil
	}
	trimmed := strings.TrimRight(digits, "0")
	exp.Add(exp, big.NewInt(int64(len(digits)-len(trimmed))))
	out := trimmed
	if exp.Sign() != 0 {
		out += "E" + exp.String()
	}
	if neg {
		out = "-" + out
	}
	return out, nil
}

// Decode parses a canonical encoding back into an item. Numbers come back
// in their normalized form; sets in the order of their encoding.
func Decode(data []byte) (map[string]types.AttributeValue, error) {
	d := &decoder{data: data}
	v := d.value()
	m, ok := v.(*types.AttributeValueMemberM)
	switch {
	case d.err != nil:
		return nil, fmt.Errorf("ledger: canonical encoding: %w", d.err)
	case len(d.data) != 0:
		return nil, fmt.Errorf("ledger: canonical encoding: %d bytes after its end", len(d.data))
	case !ok:
		return nil, errors.New("ledger: canonical encoding: not an item")
	}
	return m.Value, nil
}

type decoder struct {
	data []byte
	err  error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.data) {
		d.err = errors.New("truncated")
		return nil
	}
	p := d.data[:n]
	d.data = d.data[n:]
	return p
}

func (d *decoder) n() int {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return int(binary.BigEndian.Uint32(p))
}

func (d *decoder) value() types.AttributeValue {
	tag := d.take(1)
	if tag == nil {
		return nil
	}
	switch tag[0] {
	case 'M':
		count := d.n()
		m := map[string]types.AttributeValue{}
		for i := 0; i < count && d.err == nil; i++ {
			k := string(d.take(d.n()))
			m[k] = d.value()
		}
		return &types.AttributeValueMemberM{Value: m}
	case 'L':
		count := d.n()
		var l []types.AttributeValue
		for i := 0; i < count && d.err == nil; i++ {
			l = append(l, d.value())
		}
		return &types.AttributeValueMemberL{Value: l}
	case 'S':
		return &types.AttributeValueMemberS{Value: string(d.take(d.n()))}
	case 'N':
		return &types.AttributeValueMemberN{Value: string(d.take(d.n()))}
	case 'B':
		return &types.AttributeValueMemberB{Value: bytes.Clone(d.take(d.n()))}
	case 'T':
		return &types.AttributeValueMemberBOOL{Value: true}
	case 'F':
		return &types.AttributeValueMemberBOOL{Value: false}
	case '0':
		return &types.AttributeValueMemberNULL{Value: true}
	case 's', 'n', 'b':
		count := d.n()
		var ss []string
		var bs [][]byte
		for i := 0; i < count && d.err == nil; i++ {
			switch v := d.value().(type) {
			case *types.AttributeValueMemberS:
				ss = append(ss, v.Value)
			case *types.AttributeValueMemberN:
				ss = append(ss, v.Value)
			case *types.AttributeValueMemberB:
				bs = append(bs, v.Value)
			default:
				d.err = errors.New("a set element that is not a string, number or binary")
			}
		}
		switch tag[0] {
		case 's':
			return &types.AttributeValueMemberSS{Value: ss}
		case 'n':
			return &types.AttributeValueMemberNS{Value: ss}
		}
		return &types.AttributeValueMemberBS{Value: bs}
	}
	d.err = fmt.Errorf("unknown tag %q", tag[0])
	return nil
}
