package export

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"path"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/models"
)

// WriteBundle writes story id's export bundle for manual posting: each
// channel's formatted copy, the renditions it uses with their alt text, and
// the consent certificate when one is available. Like a delivery, each
// channel goes in only if the consent gate allows it now; refused channels
// are listed in README.txt with the reason.
func (s *Service) WriteBundle(ctx context.Context, id string, w io.Writer) error {
	st, err := s.stories.Get(ctx, id)
	if err != nil {
		return err
	}
	if !Publishable(st) {
		return apperr.New(http.StatusConflict, "Only an approved or published story can be exported.")
	}
	type entry struct {
		ch   string
		post Formatted
	}
	var ok []entry
	readme := "Post each channel's text with its images; the alt text and captions are in alt-text.csv.\n\n"
	chans, ap, err := s.Approved(ctx, st)
	if err != nil {
		return err
	}
	if ap != nil && ap.NotBefore != nil {
		readme += "Legal review approved publication from " + ap.NotBefore.UTC().Format("2006-01-02 15:04") + " UTC: do not post before then.\n\n"
	}
	title := ""
	for _, ch := range chans {
		p, names, refusal, err := s.post(ctx, st, ch, "", false)
		if err != nil {
			return err
		}
		if refusal != "" {
			readme += channels.Label(ch) + ": left out — " + refusal + "\n"
			continue
		}
		// The short link is made only for a channel the gate allows.
		code, err := s.ensureCode(ctx, st.ID, ch)
		if err != nil {
			return err
		}
		p.Link = s.publicURL + "/s/" + code
		f, err := formatWith(p, Rules[ch])
		if err == nil {
			err = checkFormatted(names, f)
		}
		if err != nil {
			readme += channels.Label(ch) + ": left out — " + err.Error() + "\n"
			continue
		}
		if title == "" {
			title = p.Title
		}
		ok = append(ok, entry{ch, f})
	}
	readme = "Storykeep export bundle: " + title + "\n" + readme
	if len(ok) == 0 {
		return apperr.New(http.StatusConflict, "No channel of this story may be exported now.\n"+readme)
	}
	// Every photo's bytes are checked before the first byte of the ZIP is
	// written, so a mismatch refuses the whole bundle cleanly.
	for _, e := range ok {
		for _, m := range e.post.Media {
			var r models.MediaRendition
			if err := s.db.WithContext(ctx).Where("asset_id = ? AND name = ?", m.AssetID, m.Rendition).Take(&r).Error; err != nil {
				return err
			}
			if err := s.verifier.Verify(ctx, m.AssetID, r.StorageKey, r.SHA256); err != nil {
				return err
			}
		}
	}
	zw := zip.NewWriter(w)
	alt := [][]string{{"channel", "file", "alt_text", "caption"}}
	seen := map[string]bool{}
	for _, e := range ok {
		text := e.post.Text
		if e.post.Title != "" {
			text = "Title: " + e.post.Title + "\n\n" + text
		}
		if err := writeFile(zw, e.ch+".txt", []byte(text+"\n")); err != nil {
			return err
		}
		for _, m := range e.post.Media {
			name := path.Join("media", m.AssetID+"-"+m.Rendition+".jpg")
			alt = append(alt, []string{e.ch, name, m.Alt, m.Caption})
			if seen[name] {
				continue
			}
			seen[name] = true
			if err := s.copyRendition(ctx, zw, name, m); err != nil {
				return err
			}
		}
	}
	fw, err := zw.Create("alt-text.csv")
	if err != nil {
		return err
	}
	if err := csv.NewWriter(fw).WriteAll(alt); err != nil {
		return err
	}
	name, pdf, err := s.Certificates.Certificate(ctx, st.ID)
	if err != nil {
		return err
	}
	if len(pdf) > 0 {
		if err := writeFile(zw, path.Base(name), pdf); err != nil {
			return err
		}
	} else {
		readme += "\nThe consent certificate is not included; find it on the story's consent page.\n"
	}
	if err := writeFile(zw, "README.txt", []byte(readme)); err != nil {
		return err
	}
	if err := s.audit.Record(ctx, nil, audit.Entry{Action: "export.bundle", ObjectType: "story", ObjectID: st.ID, Details: map[string]any{"channels": len(ok)}}); err != nil {
		return err
	}
	return zw.Close()
}

func writeFile(zw *zip.Writer, name string, b []byte) error {
	fw, err := zw.Create(name)
	if err != nil {
		return err
	}
	_, err = fw.Write(b)
	return err
}

func (s *Service) copyRendition(ctx context.Context, zw *zip.Writer, name string, m MediaRef) error {
	var r models.MediaRendition
	if err := s.db.WithContext(ctx).Where("asset_id = ? AND name = ?", m.AssetID, m.Rendition).Take(&r).Error; err != nil {
		return err
	}
	// Checked before a byte goes into the ZIP: a mismatch refuses the
	// bundle and is audited.
	if err := s.verifier.Verify(ctx, m.AssetID, r.StorageKey, r.SHA256); err != nil {
		return err
	}
	rc, _, err := s.store.Open(ctx, r.StorageKey)
	if err != nil {
		return err
	}
	defer rc.Close()
	fw, err := zw.Create(name)
	if err != nil {
		return err
	}
	_, err = io.Copy(fw, rc)
	return err
}
