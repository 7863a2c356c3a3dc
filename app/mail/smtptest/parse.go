package smtptest

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Parsed is a received message taken apart as a mail client would: decoded
// headers, the text and HTML bodies, and attachments.
type Parsed struct {
	Header      mail.Header
	From, To    string
	Subject     string // RFC 2047 decoded
	Text, HTML  string // decoded to UTF-8 text
	Attachments []Attachment
}

// Attachment is a decoded attached file.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Parse reads one RFC 5322 message with any nesting of multipart parts.
func Parse(r io.Reader) (*Parsed, error) {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return nil, fmt.Errorf("parse message: %w", err)
	}
	dec := new(mime.WordDecoder)
	p := &Parsed{Header: msg.Header}
	for field, dst := range map[string]*string{"Subject": &p.Subject, "From": &p.From, "To": &p.To} {
		if *dst, err = dec.DecodeHeader(msg.Header.Get(field)); err != nil {
			return nil, fmt.Errorf("decode %s: %w", field, err)
		}
	}
	err = p.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"),
		msg.Header.Get("Content-Disposition"), msg.Body)
	return p, err
}

func (p *Parsed) walk(contentType, encoding, disposition string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			h := part.Header
			if err := p.walk(h.Get("Content-Type"), h.Get("Content-Transfer-Encoding"), h.Get("Content-Disposition"), part); err != nil {
				return err
			}
		}
	}
	data, err := io.ReadAll(decode(encoding, body))
	if err != nil {
		return fmt.Errorf("decode %s body: %w", encoding, err)
	}
	disp, dparams, _ := mime.ParseMediaType(disposition)
	switch {
	case disp == "attachment" || disp == "inline" && dparams["filename"] != "":
		name := dparams["filename"]
		if name == "" {
			name = params["name"]
		}
		if decoded, err := new(mime.WordDecoder).DecodeHeader(name); err == nil {
			name = decoded
		}
		p.Attachments = append(p.Attachments, Attachment{Name: name, ContentType: mediaType, Data: data})
	case mediaType == "text/plain":
		p.Text += string(data)
	case mediaType == "text/html":
		p.HTML += string(data)
	default:
		p.Attachments = append(p.Attachments, Attachment{Name: params["name"], ContentType: mediaType, Data: data})
	}
	return nil
}

func decode(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, newlineStripper{r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// newlineStripper drops CR and LF so base64 lines decode as one stream.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(b []byte) (int, error) {
	for {
		k, err := n.r.Read(b)
		j := 0
		for _, c := range b[:k] {
			if c != '\r' && c != '\n' {
				b[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
