package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/storykeep/storykeep/models"
)

// ExportLine is one entry of an export, one JSON object per line.
type ExportLine struct {
	Seq        int64     `json:"seq"`
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	ActorID    string    `json:"actor_id"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	ObjectType string    `json:"object_type"`
	ObjectID   string    `json:"object_id"`
	RequestID  string    `json:"request_id"`
	IP         string    `json:"ip"`
	Details    string    `json:"details"`
	PrevHash   string    `json:"prev_hash"`
	Hash       string    `json:"hash"`
}

// ExportSignature is an export's last line: the seal key's signature over
// every byte before it.
type ExportSignature struct {
	Signature struct {
		Alg          string `json:"alg"`           // ES256, RS256 or Ed25519
		Lines        int    `json:"lines"`         // entry lines signed
		SHA256       string `json:"sha256"`        // of the signed bytes
		Sig          string `json:"sig"`           // base64 signature (DER for ECDSA)
		SignerSHA256 string `json:"signer_sha256"` // SHA-256 of the seal certificate (DER)
		Since        string `json:"since"`
		ExportedAt   string `json:"exported_at"`
	} `json:"signature"`
}

// Export writes the linked entries recorded at or after since, in chain
// order, as JSON Lines, and a last line signing every byte before it with
// key (the seal key). Each line keeps the entry's chain position and
// hashes, so a SIEM can recompute the chain itself (docs/audit.md).
// Unlinked entries are not exported: they are not final yet.
func (l *Log) Export(ctx context.Context, w io.Writer, since time.Time, key crypto.Signer, cert *x509.Certificate) (int, error) {
	var body bytes.Buffer
	n := 0
	var after int64
	for {
		var batch []models.AuditEntry
		if err := l.db.WithContext(ctx).Where("seq > ? AND at >= ?", after, since.UTC()).Order("seq").Limit(verifyBatchLimit).Find(&batch).Error; err != nil {
			return 0, err
		}
		for _, e := range batch {
			b, err := json.Marshal(ExportLine{Seq: *e.Seq, ID: e.ID, At: e.At.UTC(), ActorID: e.ActorID, Actor: e.Actor, Action: e.Action, ObjectType: e.ObjectType,
				ObjectID: e.ObjectID, RequestID: e.RequestID, IP: e.IP, Details: e.Details, PrevHash: deref(e.PrevHash), Hash: deref(e.Hash)})
			if err != nil {
				return 0, err
			}
			body.Write(b)
			body.WriteByte('\n')
			after = *e.Seq
			n++
		}
		if len(batch) < verifyBatchLimit {
			break
		}
	}
	sig, err := sign(key, body.Bytes())
	if err != nil {
		return 0, fmt.Errorf("audit: signing export: %w", err)
	}
	var s ExportSignature
	sum := sha256.Sum256(body.Bytes())
	certSum := sha256.Sum256(cert.Raw)
	s.Signature.Alg, s.Signature.Lines, s.Signature.SHA256 = algName(cert), n, hex.EncodeToString(sum[:])
	s.Signature.Sig, s.Signature.SignerSHA256 = base64.StdEncoding.EncodeToString(sig), hex.EncodeToString(certSum[:])
	s.Signature.Since, s.Signature.ExportedAt = since.UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339)
	last, err := json.Marshal(s)
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(body.Bytes()); err != nil {
		return 0, err
	}
	if _, err := w.Write(append(last, '\n')); err != nil {
		return 0, err
	}
	return n, nil
}

func algName(cert *x509.Certificate) string {
	switch cert.PublicKeyAlgorithm {
	case x509.ECDSA:
		return "ES256"
	case x509.RSA:
		return "RS256"
	case x509.Ed25519:
		return "Ed25519"
	}
	return cert.PublicKeyAlgorithm.String()
}

// VerifyExport checks an export: the last line's signature over every byte
// before it, with cert; then each entry's hash, and each link between
// consecutive entries. It returns how many entries it checked.
func VerifyExport(r io.Reader, cert *x509.Certificate) (int, error) {
	all, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	trimmed := bytes.TrimSuffix(all, []byte("\n"))
	i := bytes.LastIndexByte(trimmed, '\n')
	body, lastLine := all[:i+1], trimmed[i+1:]
	var s ExportSignature
	if err := json.Unmarshal(lastLine, &s); err != nil || s.Signature.Sig == "" {
		return 0, errors.New("the last line is not a signature")
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature.Sig)
	if err != nil {
		return 0, errors.New("the signature is not base64")
	}
	if err := verifySig(cert, body, sig); err != nil {
		return 0, fmt.Errorf("the signature does not verify with the seal certificate: the export was altered or signed by another key")
	}
	n := 0
	prevSeq, prevHash := int64(0), ""
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		n++
		var l ExportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return n, fmt.Errorf("line %d: %w", n, err)
		}
		e := models.AuditEntry{Seq: &l.Seq, At: l.At, ActorID: l.ActorID, Actor: l.Actor, Action: l.Action, ObjectType: l.ObjectType, ObjectID: l.ObjectID,
			RequestID: l.RequestID, IP: l.IP, Details: l.Details, PrevHash: &l.PrevHash}
		if Hash(e) != l.Hash {
			return n, fmt.Errorf("line %d (entry %d): content does not match its hash", n, l.Seq)
		}
		if prevSeq != 0 && l.Seq == prevSeq+1 && l.PrevHash != prevHash {
			return n, fmt.Errorf("line %d (entry %d): does not link to the line before it", n, l.Seq)
		}
		prevSeq, prevHash = l.Seq, l.Hash
	}
	if n != s.Signature.Lines {
		return n, fmt.Errorf("%d entry lines, the signature says %d", n, s.Signature.Lines)
	}
	return n, sc.Err()
}
