package web

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

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
	v := r.SHA256
	if len(v) > 12 {
		v = v[:12]
	}
	return "/p/" + url.PathEscape(slug) + "/img/" + url.PathEscape(r.AssetID) + "/" + r.Name + "?v=" + v
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
func (s *Server) publicStory(c echo.Context) error {
	st, err := s.website.Find(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return s.publicError(c, err)
	}
	canonical := s.absURL("/p/" + url.PathEscape(st.Slug))
	meta := &shareMeta{Published: st.Published.Format(time.RFC3339), Modified: st.Modified.Format(time.RFC3339)}
	ld := map[string]any{"@context": "https://schema.org", "@type": "Article", "headline": st.Title, "description": st.Summary,
		"datePublished": meta.Published, "dateModified": meta.Modified, "mainEntityOfPage": canonical, "url": canonical,
		"publisher": map[string]any{"@type": "Organization", "name": s.cfg.OrganisationName}}
	var photos []publicPhoto
	var images []string
	for i, p := range st.Photos {
		photos = append(photos, photoView(st.Slug, p))
		if r, ok := p.Renditions["opengraph"]; ok {
			images = append(images, s.absURL(publicImageURL(st.Slug, r)))
			if meta.Image == "" {
				meta.Image, meta.ImageAlt = images[len(images)-1], p.Alt
			}
		}
		if r, ok := p.Renditions["x"]; ok && i == 0 {
			meta.TwitterImage = s.absURL(publicImageURL(st.Slug, r))
		}
	}
	if meta.TwitterImage == "" {
		meta.TwitterImage = meta.Image
	}
	if len(images) > 0 {
		ld["image"] = images
	}
	return s.renderPublic(c, 200, "public_story", publicPage{Title: st.Title, Description: st.Summary, Canonical: canonical, Meta: meta, JSONLD: ld,
		Data: map[string]any{"Story": st, "Photos": photos}})
}
