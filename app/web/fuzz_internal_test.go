package web

import (
	"bytes"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// FuzzFormBinding: the story and patient forms bind whatever body a client
// sends (through readBody, as in production) without panicking, and every
// bound field is exactly the first value a standard form parser finds.
func FuzzFormBinding(f *testing.F) {
	for _, s := range []string{
		"title=Walking+again&slug=walking&body=%23+Hi&channels=x&channels=website&copy-x=hello",
		"full_name=Mar%C3%ADa&dob=1984-07-21&email=a%40b.example&language=es",
		"title=%zz&body=%", "a=1&&b=2;c=3", "title=" + strings.Repeat("x", 300), "collaborators=u1&collaborators=u2&owner=u3",
		"_csrf=abc&title=%00%ff", "",
	} {
		f.Add(s, "application/x-www-form-urlencoded")
	}
	f.Add("--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nT\r\n--b--\r\n", "multipart/form-data; boundary=b")
	e := echo.New()
	f.Fuzz(func(t *testing.T, body, contentType string) {
		req := httptest.NewRequest(http.MethodPost, "/stories", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		c := e.NewContext(req, httptest.NewRecorder())
		var bound bool
		err := readBody(func(c echo.Context) error {
			in := storyInput(c)
			p := patientForm(c)
			bound = true
			// Only a Content-Type that parses as a form is one (as
			// net/http decides); a mangled one binds nothing.
			if mt, _, merr := mime.ParseMediaType(contentType); merr == nil && mt == "application/x-www-form-urlencoded" {
				want, perr := url.ParseQuery(body)
				if perr != nil {
					return nil // Go keeps what parsed before the error; no exact oracle
				}
				if in.Title != want.Get("title") || in.Body != want.Get("body") || p["dob"] != want.Get("dob") || p["full_name"] != want.Get("full_name") {
					t.Fatalf("bound %q/%q/%q/%q from %q", in.Title, in.Body, p["dob"], p["full_name"], body)
				}
				if len(in.Channels) != len(want["channels"]) {
					t.Fatalf("channels %v, want %v", in.Channels, want["channels"])
				}
			}
			return nil
		})(c)
		if err == nil && !bound {
			t.Fatal("readBody neither failed nor called the handler")
		}
		if len(body) > maxFormBody && err == nil {
			t.Fatal("an oversized body passed")
		}
		_ = bytes.MinRead
	})
}
