// Package auth holds the pieces of staff sign-in: password hashing
// (argon2id), the database-backed session store shared by replicas,
// throttling of failed sign-ins, and TOTP two-factor codes.
package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// MinPasswordLength is the shortest password staff may choose (NIST 800-63B
// favours length over composition rules).
const MinPasswordLength = 12

// params are argon2id settings: 64 MiB, 2 passes; about 50 ms on a small server.
var params = &argon2id.Params{Memory: 64 * 1024, Iterations: 2, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// HashPassword returns an argon2id hash of pw, after checking it is acceptable.
func HashPassword(pw string) (string, error) {
	if err := CheckPasswordPolicy(pw); err != nil {
		return "", err
	}
	return argon2id.CreateHash(pw, params)
}

// CheckPasswordPolicy explains what is wrong with a proposed password.
func CheckPasswordPolicy(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLength:
		return fmt.Errorf("password must be at least %d characters long (it has %d)", MinPasswordLength, n)
	case n > 256:
		return errors.New("password must be at most 256 characters long")
	case strings.TrimSpace(pw) == "":
		return errors.New("password must not be only spaces")
	}
	return nil
}

// dummyHash is compared against when an account does not exist, so a wrong
// email takes as long as a wrong password.
var dummyHash, _ = argon2id.CreateHash("storykeep-timing-equaliser", params)

// CheckPassword reports whether pw matches hash. An empty hash runs the same
// work against a dummy so timing does not reveal whether an account exists.
func CheckPassword(pw, hash string) bool {
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(pw, dummyHash)
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}

// RandomPassword returns a readable random password of 20 characters from an
// alphabet without look-alikes, for first-run admins and invited users.
func RandomPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b strings.Builder
	for i := 0; i < 20; i++ {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b.WriteByte(alphabet[n.Int64()])
	}
	return b.String()
}
