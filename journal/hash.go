package journal

import "crypto/sha256"

func tlogSHA256(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
