package audit

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/google/uuid"
)

// anchorLock is the PostgreSQL advisory lock whose holder writes anchors.
const anchorLock = 724174

// Anchor is a chain head written outside the database: the chain position
// and hash of the last linked entry at a moment. Someone who can rewrite the
// database cannot change what an anchor already says, so Verify compares
// the chain with every anchor: a chain shorter than an anchor lost its
// tail; a hash that differs at an anchored position was recomputed.
type Anchor struct {
	Version int       `json:"version"`
	Seq     int64     `json:"seq"`
	Hash    string    `json:"hash"`
	At      time.Time `json:"at"`
	// Signature is the organisation's seal key's signature (base64) over
	// Statement; SignerSHA256 is the SHA-256 of the seal certificate.
	Signature    string `json:"signature,omitempty"`
	SignerSHA256 string `json:"signer_sha256,omitempty"`
	// TSAToken is an RFC 3161 timestamp token (base64 DER) over the
	// SHA-256 of Statement, from STORYKEEP_TSA_URL; TSATime is its time.
	TSAToken string     `json:"tsa_token,omitempty"`
	TSATime  *time.Time `json:"tsa_time,omitempty"`
	// Location is where the anchor was read from or written to.
	Location string `json:"-"`
}

// Statement is what an anchor's signature and timestamp cover, and the
// message of its syslog line.
func (a Anchor) Statement() []byte {
	return fmt.Appendf(nil, "storykeep-audit-anchor/1 seq=%d hash=%s at=%s", a.Seq, a.Hash, a.At.UTC().Format("2006-01-02T15:04:05.000000Z"))
}

// name is the anchor's object or file name: sorting names sorts anchors
// by chain position, then time.
func (a Anchor) name() string {
	return fmt.Sprintf("%020d-%d.json", a.Seq, a.At.UnixNano())
}

// AnchorStore keeps anchors outside the database: a bucket (S3Anchors,
// write-once under Object Lock) or a directory (DirAnchors).
type AnchorStore interface {
	// Write stores one anchor under name, never replacing one, and
	// returns where it went.
	Write(ctx context.Context, name string, body []byte) (string, error)
	// ReadAll returns every anchor stored, each with its location.
	ReadAll(ctx context.Context) ([]RawAnchor, error)
	// String says where the store is, for messages.
	String() string
}

// RawAnchor is a stored anchor's bytes and where they were read.
type RawAnchor struct {
	Location string
	Body     []byte
}

// Anchorer writes the chain head outside the database: to every store,
// signed with the organisation's seal key, with an RFC 3161 timestamp when
// a timestamp authority is configured, and as a signed syslog line when a
// syslog endpoint is.
type Anchorer struct {
	Log    *Log
	Stores []AnchorStore
	Signer crypto.Signer     // the seal key; nil: anchors are unsigned
	Cert   *x509.Certificate // the seal certificate
	TSAURL string
	HTTP   *http.Client
	Syslog *Syslog
	Logger *slog.Logger

	mu sync.Mutex // one anchoring at a time in this process (SQLite's leader)
}

// ErrNoStore means no anchor store is configured.
var ErrNoStore = errors.New("audit: no anchor store")

// Anchor links what is waiting, then writes the chain head outside the
// database unless the last anchor already has it (force writes it anyway).
// It returns the anchor and whether one was written. Only one replica
// anchors at a time (PostgreSQL advisory lock; a replica that does not get
// it writes nothing).
func (an *Anchorer) Anchor(ctx context.Context, force bool) (Anchor, bool, error) {
	if len(an.Stores) == 0 {
		return Anchor{}, false, ErrNoStore
	}
	an.mu.Lock()
	defer an.mu.Unlock()
	unlock, ok, err := an.Log.leader(ctx, anchorLock)
	if err != nil || !ok {
		return Anchor{}, false, err
	}
	defer unlock()
	if _, err := an.Log.Link(ctx); err != nil {
		return Anchor{}, false, err
	}
	head, err := an.Log.Head(ctx)
	if err != nil || head.Seq == 0 {
		return Anchor{}, false, err
	}
	var last sql.NullInt64
	if err := an.Log.db.WithContext(ctx).Raw("SELECT MAX(seq) FROM audit_anchors").Scan(&last).Error; err != nil {
		return Anchor{}, false, fmt.Errorf("audit: reading last anchor: %w", err)
	}
	if !force && last.Valid && last.Int64 == head.Seq {
		return Anchor{}, false, nil
	}
	a := Anchor{Version: 1, Seq: head.Seq, Hash: head.Hash, At: time.Now().UTC().Truncate(time.Microsecond)}
	if an.Signer != nil {
		sig, err := sign(an.Signer, a.Statement())
		if err != nil {
			return Anchor{}, false, fmt.Errorf("audit: signing anchor: %w", err)
		}
		a.Signature = base64.StdEncoding.EncodeToString(sig)
		if an.Cert != nil {
			sum := sha256.Sum256(an.Cert.Raw)
			a.SignerSHA256 = hex.EncodeToString(sum[:])
		}
	}
	var tsaErr error
	if an.TSAURL != "" {
		token, at, err := Timestamp(ctx, an.HTTP, an.TSAURL, a.Statement())
		if err != nil {
			// The anchor is worth writing without its timestamp; the
			// failure is returned after it is written.
			tsaErr = err
		} else {
			a.TSAToken, a.TSATime = base64.StdEncoding.EncodeToString(token), &at
		}
	}
	body, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return Anchor{}, false, err
	}
	var locs []string
	for _, st := range an.Stores {
		loc, err := st.Write(ctx, "audit-anchors/"+a.name(), append(body, '\n'))
		if err != nil {
			return Anchor{}, false, fmt.Errorf("audit: writing anchor to %s: %w", st, err)
		}
		locs = append(locs, loc)
	}
	a.Location = locs[0]
	sent := false
	var syslogErr error
	if an.Syslog != nil {
		if syslogErr = an.Syslog.Send(ctx, a); syslogErr == nil {
			sent = true
		}
	}
	if err := an.Log.db.WithContext(ctx).Exec("INSERT INTO audit_anchors (id, seq, hash, at, location, tsa_at, syslog) VALUES (?, ?, ?, ?, ?, ?, ?)",
		uuid.Must(uuid.NewV7()).String(), a.Seq, a.Hash, a.At, a.Location, a.TSATime, sent).Error; err != nil {
		return a, true, fmt.Errorf("audit: recording anchor: %w", err)
	}
	return a, true, errors.Join(tsaErr, syslogErr)
}

// Run writes an anchor every interval until ctx ends.
func (an *Anchorer) Run(ctx context.Context, interval time.Duration) {
	log := an.Logger
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if a, wrote, err := an.Anchor(ctx, false); err != nil && ctx.Err() == nil {
			log.Warn("audit: anchoring the chain head", "err", err)
		} else if wrote {
			log.Info("audit: chain head anchored", "seq", a.Seq, "location", a.Location)
		}
	}
}

// ReadAnchors reads and parses every anchor of every store, ordered by
// chain position, then time. An anchor that cannot be parsed is returned
// as a problem, not an error: a damaged anchor is something to report.
func ReadAnchors(ctx context.Context, stores []AnchorStore) ([]Anchor, []Problem, error) {
	var out []Anchor
	var probs []Problem
	for _, st := range stores {
		raws, err := st.ReadAll(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("audit: reading anchors from %s: %w", st, err)
		}
		for _, r := range raws {
			var a Anchor
			if err := json.Unmarshal(r.Body, &a); err != nil || a.Version != 1 || a.Hash == "" {
				probs = append(probs, Problem{Kind: ProblemAnchor, Reason: fmt.Sprintf("anchor %s cannot be read: %v", r.Location, err)})
				continue
			}
			a.Location = r.Location
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Seq != out[j].Seq {
			return out[i].Seq < out[j].Seq
		}
		return out[i].At.Before(out[j].At)
	})
	return out, probs, nil
}

// CheckAnchor checks an anchor's own proofs: its signature against cert
// (when cert is given), and its timestamp token, which must be valid, cover
// the anchor's statement and date from within maxSkew of the anchor's time
// (an anchor written later and backdated carries a later timestamp).
func CheckAnchor(a Anchor, cert *x509.Certificate, maxSkew time.Duration) []string {
	var bad []string
	if cert != nil {
		sig, err := base64.StdEncoding.DecodeString(a.Signature)
		if a.Signature == "" || err != nil {
			bad = append(bad, "has no readable signature")
		} else if err := verifySig(cert, a.Statement(), sig); err != nil {
			bad = append(bad, "signature does not verify with the seal certificate (forged or altered)")
		}
	}
	if a.TSAToken != "" {
		raw, err := base64.StdEncoding.DecodeString(a.TSAToken)
		var ts *timestamp.Timestamp
		if err == nil {
			ts, err = timestamp.Parse(raw)
		}
		want := sha256.Sum256(a.Statement())
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("timestamp token does not verify: %v", err))
		case ts.HashAlgorithm != crypto.SHA256 || !bytes.Equal(ts.HashedMessage, want[:]):
			bad = append(bad, "timestamp token covers something else")
		case ts.Time.Sub(a.At) > maxSkew || a.At.Sub(ts.Time) > maxSkew:
			bad = append(bad, fmt.Sprintf("timestamp says %s, the anchor says %s (written at another time than it claims)", ts.Time.UTC().Format(time.RFC3339), a.At.UTC().Format(time.RFC3339)))
		}
	}
	return bad
}

// Timestamp asks an RFC 3161 timestamp authority to stamp data's SHA-256
// and returns the token (DER) and the time it attests.
func Timestamp(ctx context.Context, client *http.Client, url string, data []byte) ([]byte, time.Time, error) {
	req, err := timestamp.CreateRequest(bytes.NewReader(data), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true})
	if err != nil {
		return nil, time.Time{}, err
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(req))
	if err != nil {
		return nil, time.Time{}, err
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	res, err := client.Do(hr)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("audit: timestamp authority: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, time.Time{}, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, time.Time{}, fmt.Errorf("audit: timestamp authority answered %s", res.Status)
	}
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("audit: timestamp reply: %w", err)
	}
	want := sha256.Sum256(data)
	if !bytes.Equal(ts.HashedMessage, want[:]) {
		return nil, time.Time{}, errors.New("audit: the timestamp covers something else")
	}
	return ts.RawToken, ts.Time, nil
}

// sign signs msg with key: SHA-256 for ECDSA and RSA (PKCS #1 v1.5), the
// message itself for Ed25519.
func sign(key crypto.Signer, msg []byte) ([]byte, error) {
	if _, ok := key.Public().(ed25519.PublicKey); ok {
		return key.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	sum := sha256.Sum256(msg)
	return key.Sign(rand.Reader, sum[:], crypto.SHA256)
}

// verifySig checks a signature made by sign with cert's key.
func verifySig(cert *x509.Certificate, msg, sig []byte) error {
	var alg x509.SignatureAlgorithm
	switch cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		alg = x509.ECDSAWithSHA256
	case *rsa.PublicKey:
		alg = x509.SHA256WithRSA
	case ed25519.PublicKey:
		alg = x509.PureEd25519
	default:
		return errors.New("audit: unsupported seal key type")
	}
	return cert.CheckSignature(alg, msg, sig)
}

// leader runs the caller as the one replica doing key's work: on
// PostgreSQL it takes a session advisory lock on a connection of its own
// (ok false when another replica holds it); SQLite, written by one
// process, needs nothing beyond the caller's mutex.
func (l *Log) leader(ctx context.Context, key int64) (unlock func(), ok bool, err error) {
	if !l.isPostgres() {
		return func() {}, true, nil
	}
	sqlDB, err := l.db.DB()
	if err != nil {
		return nil, false, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil || !ok {
		conn.Close()
		return nil, false, err
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", key)
		conn.Close()
	}, true, nil
}
