package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/models"
)

// TestAdminRetentionPage: an admin sees the retention period, write-once
// status and what has passed retention; sets a legal hold (audited), which
// moves the items to "kept by a hold"; lifts it; and purges with a typed
// confirmation. Evidence retained write-once until its date on local disk
// is deleted by the purge once the date has come.
func TestAdminRetentionPage(t *testing.T) {
	e := newRetentionEnv(t, models.RecordRevoked, 24*time.Hour)
	ctx := audit.WithActor(context.Background(), audit.System)
	r := e.env.App.Retention
	// The signature image is evidence: retained until the record's end
	// plus six years, and refused by the store until then.
	if err := r.LockRecord(ctx, e.record); err != nil {
		t.Fatal(err)
	}
	until, err := e.env.App.Store.(storage.Retainer).RetainedUntil(ctx, e.sigKey)
	if err != nil || !until.Equal(e.endedAt.AddDate(6, 0, 0).Truncate(time.Second)) {
		t.Fatalf("signature retained until %v, %v; want the record's end + 6 years", until, err)
	}
	if err := e.env.App.Store.Delete(ctx, e.sigKey); err == nil {
		t.Fatal("the store deleted retained evidence")
	}

	e.env.Client().Get("/readyz").Expect(http.StatusOK).Contains(`"object_lock":"active (local)"`)
	admin, adminUser := e.env.SignedIn(models.RoleAdmin)
	page := admin.Get("/admin/retention").Expect(http.StatusOK)
	if page.Text("#retention-years") != "6 years" || !strings.Contains(page.Text("#write-once"), "active (local)") {
		t.Fatalf("settings shown: %q / %q", page.Text("#retention-years"), page.Text("#write-once"))
	}
	if !strings.Contains(page.Text("#due"), "Nothing has passed retention") || page.Doc.Find("#purge-form").Length() != 0 {
		t.Fatal("within retention the page offers a purge")
	}

	r.SetClock(func() time.Time { return e.endedAt.AddDate(6, 0, 1) })
	page = admin.Get("/admin/retention").Expect(http.StatusOK)
	for _, id := range []string{e.asset, e.record, e.request} {
		if !strings.Contains(page.Text("#due"), id) {
			t.Fatalf("%s is not listed as due: %q", id, page.Text("#due"))
		}
	}

	// A hold without a reason: 422, values kept, message beside the field.
	res := admin.Post("/admin/retention/holds", url.Values{"subject_type": {models.HoldPatient}, "subject_id": {e.patient}, "reason": {" "}}).Expect(http.StatusUnprocessableEntity)
	if res.Doc.Find("#reason[aria-invalid=true]").Length() != 1 || res.Doc.Find("#subject_id").AttrOr("value", "") != e.patient {
		t.Fatal("the reason is not marked invalid or the id was not kept")
	}
	admin.Post("/admin/retention/holds", url.Values{"subject_type": {models.HoldPatient}, "subject_id": {"no-such-patient"}, "reason": {"x"}}).
		Expect(http.StatusUnprocessableEntity).Contains("There is no patient with that id.")
	admin.Post("/admin/retention/holds", url.Values{"subject_type": {models.HoldPatient}, "subject_id": {e.patient}, "reason": {"Matter 2026-117"}}).Expect(http.StatusSeeOther)
	if !e.audited(t, "legal_hold.set", e.patient) {
		t.Fatal("setting the hold was not audited")
	}
	page = admin.Get("/admin/retention").Expect(http.StatusOK)
	if !strings.Contains(page.Text("#holds"), "Matter 2026-117") || !strings.Contains(page.Text("#held"), e.record) || page.Doc.Find("#purge-form").Length() != 0 {
		t.Fatalf("hold not shown or held items still offered for purge: %q", page.Text("#holds"))
	}
	// A purge posted anyway deletes nothing held.
	admin.Post("/admin/retention/purge", url.Values{"confirm": {"purge"}, "count": {"0"}}).Expect(http.StatusSeeOther)
	if e.count(t, &models.ConsentRecord{}, e.record) != 1 {
		t.Fatal("a held record was purged")
	}
	lift := page.Doc.Find("#holds form").AttrOr("action", "")
	admin.Post(lift, nil).Expect(http.StatusSeeOther)
	if !e.audited(t, "legal_hold.lift", e.patient) {
		t.Fatal("lifting the hold was not audited")
	}

	// The purge needs the typed confirmation and the list the admin saw.
	admin.Post("/admin/retention/purge", url.Values{"confirm": {"yes"}, "count": {"3"}}).Expect(http.StatusUnprocessableEntity).Contains(`Type "purge"`)
	admin.Post("/admin/retention/purge", url.Values{"confirm": {"purge"}, "count": {"2"}}).Expect(http.StatusConflict).Contains("The list changed")
	if e.count(t, &models.ConsentRecord{}, e.record) != 1 {
		t.Fatal("an unconfirmed purge deleted the record")
	}
	admin.Post("/admin/retention/purge", url.Values{"confirm": {"purge"}, "count": {"3"}}).Expect(http.StatusSeeOther)
	admin.Get("/admin/retention").Expect(http.StatusOK).Contains("3 item(s) past retention were purged")
	if e.count(t, &models.MediaAsset{}, e.asset)+e.count(t, &models.ConsentRecord{}, e.record)+e.count(t, &models.ConsentRequest{}, e.request) != 0 {
		t.Fatal("the purge left rows behind")
	}
	if _, err := e.env.App.Store.Stat(ctx, e.sigKey); err == nil {
		t.Fatal("the signature image survived the purge past its date")
	}
	var entry models.AuditEntry
	e.env.App.DB.Where("action = ? AND object_id = ?", "retention.purge", e.record).Take(&entry)
	if entry.ActorID != adminUser.ID {
		t.Fatalf("purge audited as %q, want the admin", entry.ActorID)
	}
}
