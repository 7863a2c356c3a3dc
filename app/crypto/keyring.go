// Package crypto seals sensitive fields at rest (patient contact details and
// dates of birth, TOTP secrets, channel credentials) with AES-256-GCM. Each
// sealed value names the key that sealed it, so keys can be rotated: new data
// uses the first key, old data still opens with the key it names.
package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Keyring holds the data keys, newest (used for sealing) first.
type Keyring struct {
	active string
	aeads  map[string]cipher.AEAD
	// macKey is derived from the active key for MACs (see MACKey).
	macKey []byte
}

// ParseKeys builds a keyring from "id:base64key,id2:base64key2" (newest first).
func ParseKeys(spec string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, b64, ok := strings.Cut(part, ":")
		if !ok || id == "" || strings.ContainsAny(id, ".:") {
			return nil, fmt.Errorf("encryption key %q: expected id:base64-of-32-bytes", truncate(part))
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("encryption key %q: must be 32 random bytes in base64 (e.g. openssl rand -base64 32)", id)
		}
		block, _ := aes.NewCipher(raw)
		aead, _ := cipher.NewGCM(block)
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("encryption key id %q appears twice", id)
		}
		k.aeads[id] = aead
		if k.active == "" {
			k.active = id
			m := hmac.New(sha256.New, raw)
			m.Write([]byte("storykeep mac key"))
			k.macKey = m.Sum(nil)
		}
	}
	if k.active == "" {
		return nil, errors.New("no encryption key given")
	}
	return k, nil
}

func truncate(s string) string {
	if len(s) > 8 {
		return s[:8] + "…"
	}
	return s
}

// LoadOrCreate returns the keyring from spec, or, when spec is empty, from
// dir/data.key, creating that file with a fresh random key on first use (the
// zero-setup default for a single machine).
func LoadOrCreate(spec, dir string) (*Keyring, error) {
	if spec != "" {
		return ParseKeys(spec)
	}
	path := filepath.Join(dir, "data.key")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		b = []byte("k1:" + base64.StdEncoding.EncodeToString(raw) + "\n")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, os.ErrExist) {
				return LoadOrCreate(spec, dir)
			}
			return nil, err
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("reading data key %s: %w", path, err)
	}
	return ParseKeys(strings.TrimSpace(string(b)))
}

// Seal encrypts plaintext with the active key. The result is
// "keyid.base64(nonce|ciphertext)"; aad binds it to its place (e.g. "user:ID:totp")
// so a sealed value cannot be moved to another row.
func (k *Keyring) Seal(plaintext, aad string) (string, error) {
	aead := k.aeads[k.active]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := aead.Seal(nonce, nonce, []byte(plaintext), []byte(aad))
	return k.active + "." + base64.RawStdEncoding.EncodeToString(ct), nil
}

// ErrUndecryptable means a sealed value could not be opened: unknown key id,
// wrong place (aad) or tampered data.
var ErrUndecryptable = errors.New("crypto: value cannot be decrypted")

// Open decrypts a value produced by Seal with the same aad.
func (k *Keyring) Open(sealed, aad string) (string, error) {
	id, b64, ok := strings.Cut(sealed, ".")
	if !ok {
		return "", ErrUndecryptable
	}
	aead, ok := k.aeads[id]
	if !ok {
		return "", fmt.Errorf("%w: key %q is not configured", ErrUndecryptable, id)
	}
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", ErrUndecryptable
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(aad))
	if err != nil {
		return "", ErrUndecryptable
	}
	return string(pt), nil
}

// MACKey returns a key for purpose, derived from the active data key (so
// replicas sharing STORYKEEP_ENCRYPTION_KEYS agree). It is never used to seal.
func (k *Keyring) MACKey(purpose string) []byte {
	m := hmac.New(sha256.New, k.macKey)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// ActiveKeyID names the key new values are sealed with.
func (k *Keyring) ActiveKeyID() string { return k.active }

// NeedsRotation reports whether sealed was made with an older key.
func (k *Keyring) NeedsRotation(sealed string) bool {
	id, _, _ := strings.Cut(sealed, ".")
	return id != k.active
}
