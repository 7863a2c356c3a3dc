package consent

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// TokenBytes is the token's entropy: 256 bits, so a link cannot be guessed
// even by an attacker making requests for years.
const TokenBytes = 32

// NewToken returns a fresh single-use link token (base64url, no padding, 43
// characters) and the hash to store. Only the hash is kept, so a copy of the
// database does not hand out working consent links.
func NewToken() (token string, hash string) {
	b := make([]byte, TokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails; it aborts the program instead
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the lowercase hex SHA-256 of the token text, the form in
// which tokens are stored and looked up. A plain hash suffices because the
// token is 256 random bits: there is nothing to brute-force.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenMatches reports whether token hashes to storedHash, comparing in
// constant time so response timing reveals nothing about the stored value.
func TokenMatches(token, storedHash string) bool {
	got := HashToken(token)
	return subtle.ConstantTimeCompare([]byte(got), []byte(storedHash)) == 1
}

// ValidTokenShape reports whether s looks like a token NewToken made, so a
// handler can reject junk before touching the database.
func ValidTokenShape(s string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == TokenBytes
}
