package web_test

import (
	"net/http"
	"testing"
)

// The consent link's landing page is rendered once, but each visitor gets
// the CSRF token of their own cookies (and it works), and the link's state
// is still checked on every request: once the request is signed the stored
// page is never shown again.
func TestConsentLandingRenderedOnceKeepsItsGuards(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	a, b := e.Client(), e.Client()
	pa := a.Get(path).Expect(http.StatusOK)
	pb := b.Get(path).Expect(http.StatusOK)
	ta := pa.Doc.Find(`input[name=_csrf]`).First().AttrOr("value", "")
	tb := pb.Doc.Find(`input[name=_csrf]`).First().AttrOr("value", "")
	if ta == "" || tb == "" || ta == tb {
		t.Fatalf("CSRF tokens %q and %q: each visitor needs their own", ta, tb)
	}
	if pa.Body == pb.Body {
		t.Fatal("two visitors got byte-identical pages, tokens included")
	}
	if pb.Doc.Find("form").Length() == 0 || pb.Doc.Find(`input[name=year]`).Length() == 0 {
		t.Fatal("the stored page lost its identity check form")
	}
	// A's token was made for A's cookies: B cannot use it.
	form := map[string][]string{"method": {"dob"}, "year": {"1984"}, "month": {"7"}, "day": {"21"}, "_csrf": {ta}}
	b.PostRaw(path+"/verify", form).Expect(http.StatusForbidden)
	// B's own page works: the identity check passes, and B signs.
	verifyDOB(b, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	confirmSign(b, path, signForm()).Expect(http.StatusOK)
	// The link is used: nobody gets the stored page any more.
	res := e.Client().Get(path)
	if res.Status == http.StatusOK && res.Doc.Find(`input[name=year]`).Length() > 0 {
		t.Fatal("a signed link still shows the identity check")
	}
}
