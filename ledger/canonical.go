package ledger

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CanonicalVersion names the canonical encoding Encode writes. Each chain
// item records it (AttrEncoding), so that a verifier years later knows which
// encoding to recompute.
const CanonicalVersion = "appendonly-canonical-v1"

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
