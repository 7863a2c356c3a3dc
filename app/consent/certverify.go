package consent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/digitorus/pdf"

	"github.com/storykeep/storykeep/app/pdfseal"
	"github.com/storykeep/storykeep/models"
)

// CertificateCheck is the outcome of checking a certificate PDF: its seal,
// the digests recomputed from its attached files, and the record's current
// state. OK is true only when every check passed.
type CertificateCheck struct {
	OK          bool
	SHA256      string // of the PDF checked
	Sealed      bool
	SealedBy    string
	Timestamped bool
	StampedAt   time.Time
	TSA         string
	Record      *models.ConsentRecord
	Scope       *ScopeSummary
	Problems    []string
}

func (c *CertificateCheck) problem(format string, args ...any) {
	c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
}

// CheckCertificateSHA256 finds the certificate whose SHA-256 is sum (as
// stored on its record) and checks it like CheckCertificate.
func (s *Service) CheckCertificateSHA256(ctx context.Context, sum string) (*CertificateCheck, error) {
	sum = strings.ToLower(strings.TrimSpace(sum))
	if len(sum) != 64 {
		return &CertificateCheck{SHA256: sum, Problems: []string{"not a SHA-256 (64 hexadecimal characters)"}}, nil
	}
	var rec models.ConsentRecord
	if err := s.read.WithContext(ctx).Where("certificate_sha256 = ?", sum).Limit(1).Find(&rec).Error; err != nil {
		return nil, err
	}
	if rec.ID == "" {
		return &CertificateCheck{SHA256: sum, Problems: []string{"no certificate with this SHA-256 was issued here"}}, nil
	}
	b, err := s.Certificate(ctx, &rec)
	if err != nil {
		return nil, err
	}
	return s.CheckCertificate(ctx, b)
}

// CheckCertificate checks a certificate PDF from nothing but its bytes and
// the database: the seal must be the organisation's and cover every byte;
// the attached frozen content must hash to the digest; the attached signed
// scope must equal what the record holds now; the attached canonical scope,
// when present, must hash to the scope digest and equal SignedScope of the
// record now; and the record's status is
// reported. Any changed byte of the PDF or signed value in the database
// makes it fail.
func (s *Service) CheckCertificate(ctx context.Context, b []byte) (*CertificateCheck, error) {
	sum := sha256.Sum256(b)
	c := &CertificateCheck{SHA256: hex.EncodeToString(sum[:])}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		c.problem("not a PDF file")
		return c, nil
	}
	if s.Sealer == nil {
		c.problem("this server has no seal key")
	} else if res, err := pdfseal.Verify(b, s.Sealer.Cert); err != nil {
		c.problem("seal: %v", err)
	} else {
		c.Sealed, c.SealedBy = true, res.Signer.Subject.CommonName
		c.Timestamped, c.StampedAt, c.TSA = res.Timestamped, res.SignedAt, res.TSA
		if s.Sealer.TSAURL != "" && !res.Timestamped {
			c.problem("the seal has no timestamp")
		}
	}
	files, err := embeddedFiles(b)
	if err != nil {
		c.problem("attached files: %v", err)
		return c, nil
	}
	frozen, okF := files[FrozenAttachment]
	scopeJSON, okS := files[ScopeAttachment]
	if !okF || !okS {
		c.problem("the PDF lacks %s or %s", FrozenAttachment, ScopeAttachment)
		return c, nil
	}
	var scope ScopeSummary
	if err := json.Unmarshal(scopeJSON, &scope); err != nil {
		c.problem("%s: %v", ScopeAttachment, err)
		return c, nil
	}
	c.Scope = &scope
	fsum := sha256.Sum256(frozen)
	if hex.EncodeToString(fsum[:]) != scope.ContentDigest {
		c.problem("the attached frozen content does not hash to the content digest")
	}
	if f, err := ParseFrozen(string(frozen)); err != nil {
		c.problem("%s: %v", FrozenAttachment, err)
	} else if _, d := Digest(f); d != scope.ContentDigest {
		c.problem("the frozen content is not in canonical form")
	} else if f.StoryID != scope.StoryID {
		c.problem("the frozen content belongs to another story")
	}
	rec, err := s.Record(ctx, scope.RecordID)
	if err != nil || rec == nil {
		c.problem("no consent record %s here", scope.RecordID)
		return c, nil
	}
	c.Record = rec
	if rec.Digest != scope.ContentDigest || rec.FrozenJSON != string(frozen) {
		c.problem("the content digest on record differs from the certificate")
	}
	now, err := SignedScopeJSON(rec)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(now, scopeJSON) {
		c.problem("the signed scope on record differs from the certificate")
	}
	// The canonical scope is attached to certificates issued since it was
	// added (not to older ones, nor to staff copies that withhold names).
	if canonical, ok := files[CanonicalScopeAttachment]; ok {
		c.Problems = append(c.Problems, canonicalScopeProblems(canonical, scope.ScopeDigest, rec)...)
	}
	c.OK = len(c.Problems) == 0
	return c, nil
}

// canonicalScopeProblems checks the attached canonical scope: its SHA-256
// must be the summary's scope digest, and it must equal SignedScope of the
// record as stored now (a chosen value changed in the database differs).
func canonicalScopeProblems(canonical []byte, scopeDigest string, rec *models.ConsentRecord) []string {
	var out []string
	sum := sha256.Sum256(canonical)
	if scopeDigest == "" || hex.EncodeToString(sum[:]) != scopeDigest {
		out = append(out, fmt.Sprintf("the attached canonical scope (%s) does not hash to the scope digest", CanonicalScopeAttachment))
	}
	if cur, _, err := SignedScope(rec); err != nil {
		out = append(out, fmt.Sprintf("the signed scope on record cannot be recomputed: %v", err))
	} else if !bytes.Equal(cur, canonical) {
		out = append(out, "the signed scope recomputed from the record now differs from the certificate's canonical scope")
	}
	return out
}

// embeddedFiles reads the document-level attached files of a PDF.
func embeddedFiles(b []byte) (files map[string][]byte, err error) {
	defer func() { // the reader panics on some malformed input
		if r := recover(); r != nil {
			files, err = nil, fmt.Errorf("unreadable PDF")
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	names := r.Trailer().Key("Root").Key("Names").Key("EmbeddedFiles").Key("Names")
	files = map[string][]byte{}
	for i := 0; i+1 < names.Len(); i += 2 {
		name := names.Index(i).Text()
		rc := names.Index(i + 1).Key("EF").Key("F").Reader()
		data, err := io.ReadAll(io.LimitReader(rc, 16<<20))
		rc.Close()
		if err != nil {
			return nil, err
		}
		files[name] = data
	}
	return files, nil
}
