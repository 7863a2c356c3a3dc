package consent

import (
	"encoding/base64"
	"regexp"
	"testing"
)

func TestNewToken(t *testing.T) {
	shape := regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	seen := map[string]bool{}
	for range 1000 {
		token, hash := NewToken()
		if !shape.MatchString(token) {
			t.Fatalf("token %q is not 43 base64url characters", token)
		}
		if b, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(b) != 32 {
			t.Fatalf("token %q does not decode to 32 bytes: %v", token, err)
		}
		if hash != HashToken(token) || len(hash) != 64 {
			t.Fatalf("hash %q does not match HashToken", hash)
		}
		if hash == token {
			t.Fatal("hash equals token")
		}
		if seen[token] {
			t.Fatalf("token %q repeated", token)
		}
		seen[token] = true
	}
}

func TestHashTokenKnownValue(t *testing.T) {
	// SHA-256("abc"), the FIPS 180-2 example.
	if got := HashToken("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashToken(abc) = %s", got)
	}
}

func TestTokenMatches(t *testing.T) {
	token, hash := NewToken()
	other, otherHash := NewToken()
	tests := []struct {
		name        string
		token, hash string
		want        bool
	}{
		{"same token", token, hash, true},
		{"other token", other, hash, false},
		{"other hash", token, otherHash, false},
		{"empty token", "", hash, false},
		{"empty hash", token, "", false},
		{"truncated hash", token, hash[:63], false},
		{"uppercase hash", token, upper(hash), false},
		{"token given as hash", token, token, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TokenMatches(tt.token, tt.hash); got != tt.want {
				t.Errorf("TokenMatches = %v, want %v", got, tt.want)
			}
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestValidTokenShape(t *testing.T) {
	token, _ := NewToken()
	tests := map[string]bool{
		token:                   true,
		token + "=":             false,
		token[:42]:              false,
		token + "A":             false,
		"":                      false,
		"../../etc/passwd":      false,
		token[:42] + "+":        false,
		"not a token at all !!": false,
	}
	for in, want := range tests {
		if got := ValidTokenShape(in); got != want {
			t.Errorf("ValidTokenShape(%q) = %v, want %v", in, got, want)
		}
	}
}
