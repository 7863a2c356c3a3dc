// Package pdfseal seals a PDF with a PAdES signature (SubFilter
// ETSI.CAdES.detached) under the organisation's key, with an RFC 3161
// timestamp from a timestamp authority, and verifies such a seal.
//
// The seal is written as an incremental update: an invisible signature
// field, the signature dictionary with a /ByteRange covering every byte of
// the file except the signature itself, and a CMS SignedData whose signer
// carries the signing-certificate-v2 attribute (as PAdES requires) and the
// timestamp token as an unsigned attribute. CMS comes from
// github.com/digitorus/pkcs7 and the timestamp protocol from
// github.com/digitorus/timestamp (the libraries behind digitorus/pdfsign,
// which itself only writes adbe.pkcs7.detached, so the PDF part is here).
package pdfseal

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// Sealer holds the organisation's signing key and certificate and the
// timestamp authority to ask.
type Sealer struct {
	Key    crypto.Signer
	Cert   *x509.Certificate
	TSAURL string
	HTTP   *http.Client
	Name   string // shown as the signer's name in the signature dictionary
}

// LoadOrCreate reads dir/seal.key and dir/seal.crt, creating them on first
// use (an ECDSA P-256 key and a self-signed certificate in the
// organisation's name, valid 30 years: certificates must verify for the
// six-year retention and beyond), like the data key.
func LoadOrCreate(dir, orgName string) (crypto.Signer, *x509.Certificate, error) {
	keyPath, certPath := filepath.Join(dir, "seal.key"), filepath.Join(dir, "seal.crt")
	kb, kerr := os.ReadFile(keyPath)
	cb, cerr := os.ReadFile(certPath)
	if kerr == nil && cerr == nil {
		kp, _ := pem.Decode(kb)
		cp, _ := pem.Decode(cb)
		if kp == nil || cp == nil {
			return nil, nil, fmt.Errorf("pdfseal: %s or %s is not PEM", keyPath, certPath)
		}
		k, err := x509.ParsePKCS8PrivateKey(kp.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("pdfseal: %s: %w", keyPath, err)
		}
		signer, ok := k.(crypto.Signer)
		if !ok {
			return nil, nil, fmt.Errorf("pdfseal: %s holds no signing key", keyPath)
		}
		cert, err := x509.ParseCertificate(cp.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("pdfseal: %s: %w", certPath, err)
		}
		return signer, cert, nil
	}
	if !errors.Is(kerr, os.ErrNotExist) && kerr != nil {
		return nil, nil, kerr
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	now := time.Now().UTC()
	tpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: orgName + " document seal", Organization: []string{orgName}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(30, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), 0o600); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

// contentsSize is the room reserved for the CMS signature (bytes).
const contentsSize = 24 * 1024

var (
	oidTimestampToken        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidSigningCertificateV2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	startxrefRE              = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
	trailerRootRE            = regexp.MustCompile(`/Root\s+(\d+)\s+0\s+R`)
	trailerSizeRE            = regexp.MustCompile(`/Size\s+(\d+)`)
	trailerInfoRE            = regexp.MustCompile(`/Info\s+(\d+)\s+0\s+R`)
	trailerIDRE              = regexp.MustCompile(`/ID\s*\[\s*<([0-9a-fA-F]+)>`)
	pageRE                   = regexp.MustCompile(`(?s)(\d+) 0 obj\s*<<\s*/Type /Page\b[^s]`)
	errNoSeal                = errors.New("pdfseal: the PDF has no seal")
	byteRangeRE              = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)
	signingCertV2AlgSHA256ID = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

// object returns the text of object id ("id 0 obj ... endobj") in pdf.
func object(pdf []byte, id int) ([]byte, error) {
	re := regexp.MustCompile(`(?m)^` + strconv.Itoa(id) + ` 0 obj\b`)
	locs := re.FindAllIndex(pdf, -1)
	if len(locs) == 0 {
		return nil, fmt.Errorf("pdfseal: object %d not found", id)
	}
	start := locs[len(locs)-1][0] // the latest revision's
	end := bytes.Index(pdf[start:], []byte("endobj"))
	if end < 0 {
		return nil, fmt.Errorf("pdfseal: object %d has no endobj", id)
	}
	return pdf[start : start+end], nil
}

// dictBody returns what is between an object's outer "<<" and ">>".
func dictBody(obj []byte) ([]byte, error) {
	i, j := bytes.Index(obj, []byte("<<")), bytes.LastIndex(obj, []byte(">>"))
	if i < 0 || j < i {
		return nil, fmt.Errorf("pdfseal: not a dictionary")
	}
	return obj[i+2 : j], nil
}

type signingCertificateV2 struct {
	Certs []essCertIDv2
}

type essCertIDv2 struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	CertHash      []byte
}

// Seal returns pdf with the organisation's PAdES seal and a timestamp
// appended as an incremental update. at is written as the signing time.
func (s *Sealer) Seal(pdf []byte, at time.Time) ([]byte, error) {
	tail := pdf[max(0, len(pdf)-64):]
	m := startxrefRE.FindSubmatch(tail)
	if m == nil {
		return nil, fmt.Errorf("pdfseal: no startxref at the end of the file")
	}
	prev := string(m[1])
	ti := bytes.LastIndex(pdf, []byte("trailer"))
	if ti < 0 {
		return nil, fmt.Errorf("pdfseal: no trailer")
	}
	trailer := pdf[ti:]
	rootM, sizeM := trailerRootRE.FindSubmatch(trailer), trailerSizeRE.FindSubmatch(trailer)
	if rootM == nil || sizeM == nil {
		return nil, fmt.Errorf("pdfseal: trailer lacks /Root or /Size")
	}
	rootID, _ := strconv.Atoi(string(rootM[1]))
	size, _ := strconv.Atoi(string(sizeM[1]))
	cat, err := object(pdf, rootID)
	if err != nil {
		return nil, err
	}
	catBody, err := dictBody(cat)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(catBody, []byte("/AcroForm")) {
		return nil, fmt.Errorf("pdfseal: the PDF already has a form; sealing it is not supported")
	}
	pm := pageRE.FindSubmatch(pdf)
	if pm == nil {
		return nil, fmt.Errorf("pdfseal: no page")
	}
	pageID, _ := strconv.Atoi(string(pm[1]))
	page, err := object(pdf, pageID)
	if err != nil {
		return nil, err
	}
	pageBody, err := dictBody(page)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(pageBody, []byte("/Annots")) {
		return nil, fmt.Errorf("pdfseal: the first page already has annotations")
	}
	fieldID, sigID := size, size+1

	var out bytes.Buffer
	out.Write(pdf)
	if !bytes.HasSuffix(pdf, []byte("\n")) {
		out.WriteString("\n")
	}
	offsets := map[int]int{}
	offsets[rootID] = out.Len()
	fmt.Fprintf(&out, "%d 0 obj\n<<%s /AcroForm << /Fields [%d 0 R] /SigFlags 3 >> >>\nendobj\n", rootID, catBody, fieldID)
	offsets[pageID] = out.Len()
	fmt.Fprintf(&out, "%d 0 obj\n<<%s /Annots [%d 0 R] >>\nendobj\n", pageID, pageBody, fieldID)
	offsets[fieldID] = out.Len()
	fmt.Fprintf(&out, "%d 0 obj\n<< /Type /Annot /Subtype /Widget /FT /Sig /T (Seal) /V %d 0 R /Rect [0 0 0 0] /F 132 /P %d 0 R >>\nendobj\n", fieldID, sigID, pageID)
	offsets[sigID] = out.Len()
	fmt.Fprintf(&out, "%d 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /Name %s /Reason (Sealed by the issuing organisation) /M (D:%s) /ByteRange [0 ", sigID, pdfLiteral(s.Name), at.UTC().Format("20060102150405Z"))
	brPos := out.Len()
	out.WriteString(strings.Repeat(" ", 32) + "] /Contents <")
	contentsStart := out.Len() - 1
	out.WriteString(strings.Repeat("0", contentsSize*2))
	out.WriteString(">")
	contentsEnd := out.Len()
	out.WriteString(" >>\nendobj\n")

	xref := out.Len()
	out.WriteString("xref\n0 1\n0000000000 65535 f \n")
	for _, id := range sortedKeys(offsets) {
		fmt.Fprintf(&out, "%d 1\n%010d 00000 n \n", id, offsets[id])
	}
	extra := ""
	if im := trailerInfoRE.FindSubmatch(trailer); im != nil {
		extra += fmt.Sprintf(" /Info %s 0 R", im[1])
	}
	if idm := trailerIDRE.FindSubmatch(trailer); idm != nil {
		extra += fmt.Sprintf(" /ID [<%s><%s>]", idm[1], idm[1])
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root %d 0 R /Prev %s%s >>\nstartxref\n%d\n%%%%EOF\n", sigID+1, rootID, prev, extra, xref)

	b := out.Bytes()
	br := fmt.Sprintf("%d %d %d", contentsStart, contentsEnd, len(b)-contentsEnd)
	copy(b[brPos:], br)
	signed := append(append([]byte{}, b[:contentsStart]...), b[contentsEnd:]...)
	cms, err := s.cms(signed)
	if err != nil {
		return nil, err
	}
	h := hex.EncodeToString(cms)
	if len(h) > contentsSize*2 {
		return nil, fmt.Errorf("pdfseal: signature too large (%d bytes)", len(cms))
	}
	copy(b[contentsStart+1:], h)
	return b, nil
}

func pdfLiteral(s string) string {
	var b strings.Builder
	b.WriteByte('(')
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(')')
	return b.String()
}

func sortedKeys(m map[int]int) []int {
	var ks []int
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// cms signs data (detached) and adds the timestamp of the signature value.
func (s *Sealer) cms(data []byte) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(data)
	if err != nil {
		return nil, err
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	certHash := sha256.Sum256(s.Cert.Raw)
	scv2, err := asn1.Marshal(signingCertificateV2{Certs: []essCertIDv2{{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: signingCertV2AlgSHA256ID}, CertHash: certHash[:]}}})
	if err != nil {
		return nil, err
	}
	if err := sd.AddSigner(s.Cert, s.Key, pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{
		{Type: oidSigningCertificateV2, Value: asn1.RawValue{FullBytes: scv2}},
	}}); err != nil {
		return nil, err
	}
	sd.Detach()
	if s.TSAURL != "" {
		si := &sd.GetSignedData().SignerInfos[0]
		token, err := s.timestamp(si.EncryptedDigest)
		if err != nil {
			return nil, err
		}
		if err := si.SetUnauthenticatedAttributes([]pkcs7.Attribute{{Type: oidTimestampToken, Value: asn1.RawValue{FullBytes: token}}}); err != nil {
			return nil, err
		}
	}
	return sd.Finish()
}

// timestamp asks the timestamp authority to stamp sig; it returns the
// token (a CMS ContentInfo).
func (s *Sealer) timestamp(sig []byte) ([]byte, error) {
	req, err := timestamp.CreateRequest(bytes.NewReader(sig), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true})
	if err != nil {
		return nil, err
	}
	client := s.HTTP
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := client.Post(s.TSAURL, "application/timestamp-query", bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("pdfseal: timestamp authority: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("pdfseal: timestamp authority answered %s", res.Status)
	}
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		return nil, fmt.Errorf("pdfseal: timestamp reply: %w", err)
	}
	want := sha256.Sum256(sig)
	if !bytes.Equal(ts.HashedMessage, want[:]) {
		return nil, fmt.Errorf("pdfseal: the timestamp covers something else")
	}
	return ts.RawToken, nil
}

// Result is what Verify found.
type Result struct {
	Signer        *x509.Certificate
	SignedAt      time.Time // from the timestamp, when there is one
	Timestamped   bool
	TSA           string // the timestamp authority's certificate subject
	SignedContent []byte // the PDF without the signature value
}

// Verify checks the last seal of pdf: it must cover every byte of the file
// but its own value, its CMS signature must verify, and its timestamp (if
// any) must cover the signature value. trusted, when given, is the
// certificate the signer must be.
func Verify(pdf []byte, trusted *x509.Certificate) (*Result, error) {
	all := byteRangeRE.FindAllSubmatchIndex(pdf, -1)
	if all == nil {
		return nil, errNoSeal
	}
	m := all[len(all)-1]
	var br [4]int
	for i := range 4 {
		br[i], _ = strconv.Atoi(string(pdf[m[2+2*i]:m[3+2*i]]))
	}
	if br[0] != 0 || br[1] <= 0 || br[2] <= br[1] || br[2]+br[3] != len(pdf) || pdf[br[1]] != '<' || pdf[br[2]-1] != '>' {
		return nil, fmt.Errorf("pdfseal: the seal does not cover the whole file")
	}
	raw, err := hex.DecodeString(string(pdf[br[1]+1 : br[2]-1]))
	if err != nil {
		return nil, fmt.Errorf("pdfseal: bad signature value")
	}
	var rv asn1.RawValue
	if _, err := asn1.Unmarshal(raw, &rv); err != nil {
		return nil, fmt.Errorf("pdfseal: bad signature value: %w", err)
	}
	p7, err := pkcs7.Parse(rv.FullBytes)
	if err != nil {
		return nil, fmt.Errorf("pdfseal: bad signature value: %w", err)
	}
	content := append(append([]byte{}, pdf[:br[1]]...), pdf[br[2]:]...)
	p7.Content = content
	if err := p7.Verify(); err != nil {
		return nil, fmt.Errorf("pdfseal: the signature does not match the file: %w", err)
	}
	res := &Result{Signer: p7.GetOnlySigner(), SignedContent: content}
	if res.Signer == nil {
		return nil, fmt.Errorf("pdfseal: no signer")
	}
	if trusted != nil && !res.Signer.Equal(trusted) {
		return nil, fmt.Errorf("pdfseal: sealed by %q, not by this organisation's key", res.Signer.Subject.CommonName)
	}
	for _, a := range p7.Signers[0].UnauthenticatedAttributes {
		if !a.Type.Equal(oidTimestampToken) {
			continue
		}
		ts, err := timestamp.Parse(a.Value.Bytes) // the SET's one value
		if err != nil {
			return nil, fmt.Errorf("pdfseal: bad timestamp: %w", err)
		}
		want := sha256.Sum256(p7.Signers[0].EncryptedDigest)
		if ts.HashAlgorithm != crypto.SHA256 || !bytes.Equal(ts.HashedMessage, want[:]) {
			return nil, fmt.Errorf("pdfseal: the timestamp does not cover this signature")
		}
		res.Timestamped, res.SignedAt = true, ts.Time
		if len(ts.Certificates) > 0 {
			res.TSA = ts.Certificates[0].Subject.String()
		}
	}
	return res, nil
}

// ErrNoSeal reports a PDF without a seal.
func ErrNoSeal(err error) bool { return errors.Is(err, errNoSeal) }
