package export

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/disclosure"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

const codeLen = 8

func newCode() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, codeLen)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func (s *Service) existingCode(ctx context.Context, storyID, channel string) (string, error) {
	var codes []string
	err := s.db.WithContext(ctx).Model(&models.ShortLink{}).Where("story_id = ? AND channel = ?", storyID, channel).Pluck("code", &codes).Error
	if err != nil || len(codes) == 0 {
		return "", err
	}
	return codes[0], nil
}

// ensureCode returns the story's short link code for channel, creating it;
// one code per story and channel so clicks add up across reposts.
func (s *Service) ensureCode(ctx context.Context, storyID, channel string) (string, error) {
	// One statement in the common case (a first post): the insert is
	// skipped when the story and channel have a code already (their unique
	// index), and only then is that code read. Two deliveries racing for
	// the same pair both end with the one code that was stored.
	l := models.ShortLink{Code: newCode(), StoryID: storyID, Channel: channel, CreatedAt: s.now()}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "story_id"}, {Name: "channel"}}, DoNothing: true}).Create(&l)
	if res.Error != nil {
		return "", res.Error
	}
	if res.RowsAffected == 1 {
		return l.Code, nil
	}
	code, err := s.existingCode(ctx, storyID, channel)
	if err == nil && code == "" {
		err = fmt.Errorf("short link for story %s on %s neither stored nor found", storyID, channel)
	}
	return code, err
}

// Follow counts a click on code and returns where it leads: the public
// story page at its public slug (never the staff slug), with the channel as
// UTM source, built by the disclosure package. Only while the website
// publication is live and the gate allows the page; afterwards 410. Only a
// per-day counter is kept; nothing about the person clicking.
func (s *Service) Follow(ctx context.Context, code string) (string, error) {
	var link models.ShortLink
	if err := s.db.WithContext(ctx).Where("code = ?", code).Limit(1).Find(&link).Error; err != nil {
		return "", err
	}
	if link.Code == "" {
		return "", apperr.NotFound("This link does not exist.")
	}
	gone := apperr.New(http.StatusGone, "This story is no longer available.")
	d, err := s.source().For(ctx, disclosure.Request{StoryID: link.StoryID, Website: true, NoPhotos: true})
	if errors.Is(err, stories.ErrNotFound) || disclosure.IsLeak(err) {
		return "", gone
	}
	if err != nil {
		return "", err
	}
	var stage []string
	if err := s.db.WithContext(ctx).Model(&models.Story{}).Where("id = ?", link.StoryID).Pluck("stage", &stage).Error; err != nil {
		return "", err
	}
	if d.Page == nil || len(stage) == 0 || stage[0] != string(workflow.Published) {
		return "", gone
	}
	day := s.now().Format(time.DateOnly)
	err = s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "code"}, {Name: "day"}},
		DoUpdates: clause.Assignments(map[string]any{"clicks": gorm.Expr("link_clicks.clicks + 1")}),
	}).Create(&models.LinkClick{Code: code, Day: day, Clicks: 1}).Error
	if err != nil {
		return "", err
	}
	return d.Page.ShortLinkTarget(link.Channel), nil
}

// ClickCount is the clicks of one story on one channel.
type ClickCount struct {
	StoryID, Channel, Title string
	Clicks                  int64
}

// Clicks totals clicks per channel for story id ("" for every story), most
// first.
func (s *Service) Clicks(ctx context.Context, storyID string) ([]ClickCount, error) {
	var out []ClickCount
	q := s.db.WithContext(ctx).Table("link_clicks").
		Select("short_links.story_id AS story_id, short_links.channel AS channel, stories.title AS title, SUM(link_clicks.clicks) AS clicks").
		Joins("JOIN short_links ON short_links.code = link_clicks.code").
		Joins("JOIN stories ON stories.id = short_links.story_id").
		Group("short_links.story_id, short_links.channel, stories.title").Order("clicks DESC, title, channel").Limit(50)
	if storyID != "" {
		q = q.Where("short_links.story_id = ?", storyID)
	}
	return out, q.Scan(&out).Error
}

// DayCount is the clicks of one day, for the dashboard chart.
type DayCount struct {
	Day    string
	Clicks int64
}

// ClicksByDay returns the last days' totals over every link, oldest first,
// with zero days filled in.
func (s *Service) ClicksByDay(ctx context.Context, days int) ([]DayCount, error) {
	from := s.now().AddDate(0, 0, -(days - 1))
	var rows []DayCount
	if err := s.db.WithContext(ctx).Table("link_clicks").Select("day, SUM(clicks) AS clicks").
		Where("day >= ?", from.Format(time.DateOnly)).Group("day").Scan(&rows).Error; err != nil {
		return nil, err
	}
	by := map[string]int64{}
	for _, r := range rows {
		by[r.Day] = r.Clicks
	}
	out := make([]DayCount, days)
	for i := range out {
		d := from.AddDate(0, 0, i).Format(time.DateOnly)
		out[i] = DayCount{Day: d, Clicks: by[d]}
	}
	return out, nil
}
