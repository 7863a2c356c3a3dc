package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/disclosure"
	"github.com/storykeep/storykeep/app/publiccache"
	"github.com/storykeep/storykeep/app/website"
	"github.com/storykeep/storykeep/models"
)

// publicPhoto is one picture as responsive image candidates. Crops of one
// shape share a srcset (square: thumbnail and instagram-square); the wide
// crop is offered to wide screens through <picture>.
type publicPhoto struct {
	Src, SrcSet   string
	Width, Height int
	Wide          string
	WideW, WideH  int
	Alt, Caption  string
}

// publicImageURL is a crop's address; v changes when the crop does, so the
// address can be cached as immutable.
func publicImageURL(slug string, r models.MediaRendition) string {
	return disclosure.ImagePath(slug, r)
}

func photoView(slug string, p website.Photo) publicPhoto {
	out := publicPhoto{Alt: p.Alt, Caption: p.Caption}
	var set []string
	for _, n := range []string{"thumbnail", "instagram-square"} {
		if r, ok := p.Renditions[n]; ok {
			set = append(set, fmt.Sprintf("%s %dw", publicImageURL(slug, r), r.Width))
			out.Src, out.Width, out.Height = publicImageURL(slug, r), r.Width, r.Height
		}
	}
	if r, ok := p.Renditions["x"]; ok {
		out.Wide, out.WideW, out.WideH = fmt.Sprintf("%s %dw", publicImageURL(slug, r), r.Width), r.Width, r.Height
		if out.Src == "" { // no square crop: the wide one is all there is
			out.Src, out.Width, out.Height, out.Wide = publicImageURL(slug, r), r.Width, r.Height, ""
			set = []string{fmt.Sprintf("%s %dw", out.Src, r.Width)}
		}
	}
	out.SrcSet = strings.Join(set, ", ")
	return out
}

// publicStory shows one published story, if the patient still allows it.
// Everything on it, tags included, comes from the disclosure package's
// page; the written bytes are checked once more for a withheld name.
func (s *Server) publicStory(c echo.Context) error {
	slug := c.Param("slug")
	return s.publicCached(c, "page:"+slug, func() (*publiccache.Entry, string, error) {
		st, err := s.website.Find(c.Request().Context(), slug)
		if err != nil {
			return nil, "", s.publicError(c, err)
		}
		b, err := s.renderPublicChecked(c, st.Names, "public_story", s.storyPage(st))
		if err != nil || b == nil {
			return nil, "", err
		}
		return publicHTML(b), st.State, nil
	})
}

// storyPage is the story page's template data, all from the disclosure's page.
func (s *Server) storyPage(st *website.Story) publicPage {
	canonical := s.absURL(st.Path)
	meta := &shareMeta{Published: st.Published.Format(time.RFC3339), Modified: st.Modified.Format(time.RFC3339), ImageAlt: st.Meta.ImageAlt}
	if st.Meta.Image != "" {
		meta.Image = s.absURL(st.Meta.Image)
	}
	if st.Meta.TwitterImage != "" {
		meta.TwitterImage = s.absURL(st.Meta.TwitterImage)
	}
	ld := map[string]any{"@context": "https://schema.org", "@type": "Article", "headline": st.Meta.Title, "description": st.Meta.Description,
		"datePublished": meta.Published, "dateModified": meta.Modified, "mainEntityOfPage": canonical, "url": canonical,
		"publisher": map[string]any{"@type": "Organization", "name": s.cfg.OrganisationName}}
	var images []string
	for _, im := range st.Meta.Images {
		images = append(images, s.absURL(im))
	}
	if len(images) > 0 {
		ld["image"] = images
	}
	var photos []publicPhoto
	for _, p := range st.Photos {
		photos = append(photos, photoView(st.Slug, p))
	}
	return publicPage{Title: st.Meta.Title, Description: st.Meta.Description, Canonical: canonical, Meta: meta, JSONLD: ld,
		Data: map[string]any{"Story": st, "Photos": photos}}
}
